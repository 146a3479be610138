/**
 * The step graph of a workflow: the types every layer shares. Walking a snapshot is the interpreter's
 * own code (temporal/interpreter/transitions.ts), changed only behind `patched()`.
 */

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

/** An immutable copy of a workflow's steps and transitions at one version; executions run on it. */
export interface GraphSnapshot {
  workflowId: string;
  version: number;
  steps: GraphStep[];
  transitions: GraphTransition[];
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

/** Names of the events that WAIT_FOR_EVENT steps of a graph wait for. */
export function waitedEventNames(graph: Pick<GraphSnapshot, 'steps'>): string[] {
  const names = new Set<string>();
  for (const s of graph.steps) {
    if (s.type === 'WAIT_FOR_EVENT' && typeof s.config.eventName === 'string') names.add(s.config.eventName);
  }
  return [...names];
}
