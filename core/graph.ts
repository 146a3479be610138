/**
 * The step graph of a workflow: the types every layer shares. Walking a snapshot is the interpreter's
 * own code (temporal/interpreter/transitions.ts), changed only behind `patched()`.
 */
import type { Filter } from './filter';
import type { StepConfigs } from './step-configs';

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
  'SEND_SMS',
] as const;
export type StepType = (typeof STEP_TYPES)[number];

/** A step of type `T` (or of any type in `T`), its config typed by its type. */
export type GraphStepOf<T extends StepType> = { [K in T]: { id: string; type: K; name: string; config: StepConfigs[K] } }[T];

/** A step of a snapshot: a union discriminated by `type`, so a handler reads its config without a cast. */
export type GraphStep = GraphStepOf<StepType>;

/** A step as the graph rules see it, whose config may not have been validated yet. */
export interface StepNode {
  id: string;
  type: StepType;
  config: object;
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
  /** A contact change that makes the contact match it ends the execution (`goal:filter`). */
  filter?: Filter;
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

/**
 * The name of the signal that tells a run its contact now matches `exitOn.filter`. Never recorded as
 * an event: the dot-less, bracketed name cannot be tracked.
 */
export const FILTER_GOAL_SIGNAL = '[goal:filter]';
export const FILTER_GOAL_REASON = 'goal:filter';

/** The exit reason an event named `name` gives an execution of a graph: `goal:<name>`, `unsubscribed`, or none. */
export function exitReasonFor(exitOn: ExitOn | undefined, name: string): string | undefined {
  if (!exitOn) return undefined;
  if (exitOn.events?.includes(name)) return `goal:${name}`;
  if (exitOn.filter && name === FILTER_GOAL_SIGNAL) return FILTER_GOAL_REASON;
  if (exitOn.onUnsubscribe && name === UNSUBSCRIBED_EVENT) return 'unsubscribed';
  return undefined;
}

/**
 * The WAIT_FOR_EVENT a run of the graph begins with: its TRIGGER's successor (the first unbranched
 * transition out of the TRIGGER, the step the interpreter goes to first), when that is one.
 * Enrolment opens it in Postgres (db/enrol.ts), and the run goes on waiting in it.
 */
export function openingWait(graph: GraphSnapshot): GraphStepOf<'WAIT_FOR_EVENT'> | undefined {
  const trigger = graph.steps.find((s) => s.type === 'TRIGGER');
  const first = trigger && graph.transitions.find((t) => t.fromStepId === trigger.id && t.branch === null);
  const step = first && graph.steps.find((s) => s.id === first.toStepId);
  return step?.type === 'WAIT_FOR_EVENT' ? step : undefined;
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
export function stepBranches(step: Pick<StepNode, 'type' | 'config'>): readonly string[] | undefined {
  if (step.type === 'SPLIT') {
    const listed = 'branches' in step.config ? step.config.branches : undefined;
    const branches: { name?: unknown }[] = Array.isArray(listed) ? listed : [];
    return branches.map((b) => b.name).filter((name): name is string => typeof name === 'string');
  }
  return FIXED_BRANCHES[step.type];
}
