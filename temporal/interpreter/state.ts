/** The interpreter's state for one execution: context, visit numbering and unwritten bookkeeping. */
import type { CancellationScope } from '@temporalio/workflow';
import { exitReasonFor, type GraphStep } from '../../core/graph';
import type { ExecutionInput, ExecutionPatch, Journal, JsonObject, StepRecord, TrackedEventSignal } from '../../core/execution';
import type { StepStatus } from '../../core/statuses';

export class ExecutionState {
  readonly input: ExecutionInput;
  context: JsonObject;
  private journal: Journal = { steps: [] };
  private seq = 0;
  /** The visit in progress: what a cancellation marks CANCELLED. */
  current: StepRecord | undefined;
  private inbox: { eventName: string; event?: TrackedEventSignal } | undefined;
  /** Set when an exit condition (goal) was reached: the execution ends EXITED with this reason. */
  exitReason: string | undefined;
  /** The scope the current step runs in: cancelled when a goal is reached mid-step. */
  stepScope: CancellationScope | undefined;

  constructor(input: ExecutionInput) {
    this.input = input;
    this.context = { ...input.context };
  }

  /** Opens the visit of a step: its record starts RUNNING (TRIGGER, recorded at enrolment, is visit 0). */
  visit(step: GraphStep): StepRecord {
    this.seq += 1;
    this.current = { seq: this.seq, stepId: step.id, type: step.type, name: step.name, status: 'RUNNING', startedAt: now() };
    return this.current;
  }

  /** Starts taking the first delivered event named `eventName`; the returned inbox receives it. */
  listen(eventName: string): { readonly event?: TrackedEventSignal } {
    this.inbox = { eventName };
    return this.inbox;
  }

  stopListening(): void {
    this.inbox = undefined;
  }

  /**
   * Signal handler: keeps the event only when a wait for its name is open and still empty; an event
   * that is one of the graph's exit conditions ends the execution instead, at whatever step it is.
   */
  deliver(event: TrackedEventSignal): void {
    const exitReason = exitReasonFor(this.input.graph.exitOn, event.name);
    if (exitReason !== undefined) {
      this.exitReason ??= exitReason;
      this.stepScope?.cancel();
      return;
    }
    if (this.inbox && !this.inbox.event && this.inbox.eventName === event.name) this.inbox.event = event;
  }

  /** Queues a step record for the next write; a later record of the same visit replaces it. */
  record(visit: StepRecord, status: StepStatus, extra: { output?: unknown; error?: string } = {}): StepRecord {
    const done = status === 'COMPLETED' || status === 'FAILED' || status === 'CANCELLED';
    const rec: StepRecord = { ...visit, status, ...extra, ...(done ? { completedAt: now() } : {}) };
    if (this.current?.seq === rec.seq) this.current = rec;
    this.journal.steps = this.journal.steps.filter((s) => s.seq !== rec.seq).concat(rec);
    return rec;
  }

  /** Queues a change to the execution row; merges with one already queued. */
  patch(p: ExecutionPatch): void {
    this.journal.execution = { ...this.journal.execution, ...p };
  }

  /** Hands the queued bookkeeping to an activity and starts a new journal. */
  take(): Journal {
    const j = this.journal;
    this.journal = { steps: [] };
    return j;
  }

  /** Puts back bookkeeping whose write failed, ahead of anything queued since. */
  restore(j: Journal): void {
    const newer = this.journal;
    this.journal = { steps: j.steps, execution: j.execution };
    for (const s of newer.steps) this.journal.steps = this.journal.steps.filter((x) => x.seq !== s.seq).concat(s);
    if (newer.execution) this.patch(newer.execution);
  }

  get executionId(): string {
    return this.input.executionId;
  }
}

/** Workflow time as ISO text (deterministic inside workflow code). */
export function now(): string {
  return new Date().toISOString();
}
