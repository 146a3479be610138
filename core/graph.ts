/** The step graph of a workflow: the types every layer shares, and how to walk a snapshot. */

export const STEP_TYPES = [
  'TRIGGER',
  'SEND_EMAIL',
  'DELAY',
  'WAIT_FOR_EVENT',
  'CONDITION',
  'WEBHOOK',
  'UPDATE_CONTACT',
  'EXIT',
  'SPLIT',
  'TRIGGER_EVENT',
  'START_WORKFLOW',
  'WAIT_UNTIL',
] as const;
export type StepType = (typeof STEP_TYPES)[number];

export interface GraphStep {
  id: string;
  type: StepType;
  name: string;
  config: Record<string, unknown>;
}

export interface GraphTransition {
  id: string;
  fromStepId: string;
  toStepId: string;
  branch: string | null;
}

/** Exit conditions (goals, SPEC §14.3): events that end an active execution, and unsubscribing. */
export interface ExitOn {
  events?: string[];
  onUnsubscribe?: boolean;
}

/** An immutable copy of a workflow's steps and transitions at one version; executions run on it. */
export interface GraphSnapshot {
  workflowId: string;
  version: number;
  steps: GraphStep[];
  transitions: GraphTransition[];
  /** Absent in snapshots taken before exit conditions existed, and when the workflow has none. */
  exitOn?: ExitOn;
}

const UNSUBSCRIBED_EVENT = 'contact.unsubscribed';

/** The exit reason an event named `name` gives an execution of a graph: `goal:<name>`, `unsubscribed`, or none. */
export function exitReasonFor(exitOn: ExitOn | undefined, name: string): string | undefined {
  if (!exitOn) return undefined;
  if (exitOn.events?.includes(name)) return `goal:${name}`;
  if (exitOn.onUnsubscribe && name === UNSUBSCRIBED_EVENT) return 'unsubscribed';
  return undefined;
}

/** Names of the events that end executions of a graph. */
export function exitEventNames(exitOn: ExitOn | undefined): string[] {
  const names = new Set(exitOn?.events ?? []);
  if (exitOn?.onUnsubscribe) names.add(UNSUBSCRIBED_EVENT);
  return [...names];
}

/** Branch labels of the step types whose labels are fixed. */
const FIXED_BRANCHES: Partial<Record<StepType, readonly string[]>> = {
  CONDITION: ['yes', 'no'],
  WAIT_FOR_EVENT: ['event', 'timeout'],
};

/**
 * Branch labels a step may put on its outgoing transitions, or undefined when it takes none.
 * A SPLIT's labels are the names of its config's branches.
 */
export function stepBranches(step: Pick<GraphStep, 'type' | 'config'>): readonly string[] | undefined {
  if (step.type === 'SPLIT') {
    const branches = Array.isArray(step.config.branches) ? (step.config.branches as { name?: unknown }[]) : [];
    return branches.map((b) => b.name).filter((name): name is string => typeof name === 'string');
  }
  return FIXED_BRANCHES[step.type];
}

/** The TRIGGER step of a graph. */
export function triggerStep(graph: GraphSnapshot): GraphStep | undefined {
  return graph.steps.find((s) => s.type === 'TRIGGER');
}

/**
 * The step that follows `stepId` when the step ended on `branch`: the transition with that branch,
 * else the one unbranched transition; undefined when there is none (the execution completes).
 */
export function nextStepId(graph: GraphSnapshot, stepId: string, branch?: string): string | undefined {
  const out = graph.transitions.filter((t) => t.fromStepId === stepId);
  if (branch !== undefined) {
    const match = out.find((t) => t.branch === branch);
    if (match) return match.toStepId;
  }
  return out.find((t) => t.branch === null)?.toStepId;
}

/** Names of the events that WAIT_FOR_EVENT steps of a graph wait for. */
export function waitedEventNames(graph: Pick<GraphSnapshot, 'steps'>): string[] {
  const names = new Set<string>();
  for (const s of graph.steps) {
    if (s.type === 'WAIT_FOR_EVENT' && typeof s.config.eventName === 'string') names.add(s.config.eventName);
  }
  return [...names];
}
