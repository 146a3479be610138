/** What the interpreter and its activities exchange: the execution's input, step records, results. */
import type { GraphSnapshot, StepType } from './graph';
import type { ExecutionStatus, StepStatus } from './statuses';

export type JsonObject = Record<string, unknown>;

/** The Temporal workflow's input: everything it needs, so it never reads the live graph. */
export interface ExecutionInput {
  executionId: string;
  projectId: string;
  workflowId: string;
  workflowName: string;
  contactId: string;
  contactEmail: string;
  context: JsonObject;
  graph: GraphSnapshot;
  /** Set when a run continued as new in the middle of a step: the visit it goes on with, and its context. */
  resume?: { visit: StepRecord; context: JsonObject };
  /**
   * Set when enrolment opened the run's first step, a WAIT_FOR_EVENT (core/graph.ts openingWait), in
   * Postgres: the step, and the visit's start (visit 1), from which events count. The run goes on
   * waiting in it without opening it again.
   */
  openedWait?: OpenedWait;
}

/** A run's first WAIT_FOR_EVENT as enrolment opened it: its step and when its visit started (ISO, to the millisecond). */
export interface OpenedWait {
  stepId: string;
  startedAt: string;
}

/** One visit of one step, as kept in the execution's history (`seq` orders the visits). */
export interface StepRecord {
  seq: number;
  stepId: string;
  type: StepType;
  name: string;
  status: StepStatus;
  output?: unknown;
  error?: string;
  startedAt: string;
  completedAt?: string;
}

/** A change to the execution's own row; applied only while the execution is still active. */
export interface ExecutionPatch {
  status: ExecutionStatus;
  currentStepId?: string | null;
  context?: JsonObject;
  exitReason?: string;
  error?: string;
  /** The event name a WAIT_FOR_EVENT now waits for; any patch without it clears the wait. */
  waitingFor?: string;
  /** Sets completedAt to the time the patch is applied. */
  completed?: boolean;
}

/** Bookkeeping the interpreter has not written yet; the next activity writes it in its transaction. */
export interface Journal {
  steps: StepRecord[];
  execution?: ExecutionPatch;
}

/** What every step activity is given besides its own arguments. */
export interface StepActivityBase {
  executionId: string;
  journal: Journal;
  /** The visit this activity carries out; recorded RUNNING before and COMPLETED after the work. */
  visit: StepRecord;
  /** Applied with the step's completion, e.g. COMPLETED when the step has no successor. */
  after?: ExecutionPatch;
  /** Set when an attempt of this visit ran before this activity was scheduled (a send's or a webhook's local first attempt): every attempt is then a retry. */
  earlierAttempt?: boolean;
}

/**
 * The result of a step activity: done with an output; refused because the execution is no longer
 * active; or (a send) held back because the contact is in quiet hours until `until` (ISO).
 */
export type StepActivityResult = { done: true; output?: unknown } | { done: false; reason: 'inactive' } | QuietHold;

/** A send held back by quiet hours (SPEC §14.4): nothing was sent; try again at `until`. */
export interface QuietHold {
  done: false;
  reason: 'quiet';
  until: string;
  zone: string;
}

export interface ContactSnapshot {
  id: string;
  email: string;
  subscribed: boolean;
  createdAt: string;
  data: JsonObject;
  tags: string[];
}

/** The Temporal workflow's result when it completes (COMPLETED or EXITED). */
export interface ExecutionResult {
  status: 'COMPLETED' | 'EXITED';
  exitReason?: string;
}

/** A tracked event delivered to a running execution. */
export interface TrackedEventSignal {
  eventId: string;
  name: string;
  data: JsonObject;
  /** When Postgres recorded the event (ISO, milliseconds): a wait takes only events recorded after it started. Absent in commands queued before it was carried. */
  recordedAt?: string;
}

export const WORKFLOW_TYPE = 'contactExecution';
export const EVENT_SIGNAL = 'trackedEvent';

/** The Temporal workflow id of an execution: deterministic, so starting it twice is harmless. */
export function temporalWorkflowId(executionId: string): string {
  return `trellis-execution-${executionId}`;
}

/** Custom search attributes registered at start (never named like a built-in one). */
export const SEARCH_ATTRIBUTES = {
  workflowId: 'TrellisWorkflowId',
  contactId: 'TrellisContactId',
  contactEmail: 'TrellisContactEmail',
  status: 'TrellisStatus',
  projectId: 'TrellisProjectId',
} as const;
