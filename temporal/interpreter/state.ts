/** The interpreter's state for one execution: context, visit numbering and unwritten bookkeeping. */
import { type CancellationScope, patched } from '@temporalio/workflow';
import { exitReasonFor, type GraphStep, type GraphStepOf } from '../../core/graph';
import type { ExecutionInput, ExecutionPatch, Journal, JsonObject, OpenedWait, StepRecord, TrackedEventSignal } from '../../core/execution';
import type { StepStatus } from '../../core/statuses';
import {
  type EVERY_PATCH_TO_2026_12,
  type EVERY_PATCH_TO_2026_12_05,
  type EVERY_PATCH_TO_2026_12_05B,
  type EVERY_PATCH_TO_2026_12_06,
  OPENED_WAIT,
  PATCH_BUNDLES,
} from './patches';
import type * as patches from './patches';

/** A patch of the interpreter's (patches.ts) a run may be asked about. */
export type PatchId = Exclude<
  Extract<(typeof patches)[keyof typeof patches], string>,
  typeof EVERY_PATCH_TO_2026_12 | typeof EVERY_PATCH_TO_2026_12_05 | typeof EVERY_PATCH_TO_2026_12_05B | typeof EVERY_PATCH_TO_2026_12_06
>;

/** Answers whether the run applies a patch (`patched`, for runs that began before the patch in question). */
export interface Patches {
  patched(id: PatchId): boolean;
}

export class ExecutionState implements Patches {
  readonly input: ExecutionInput;
  /** The patches of the bundle the run started with (patches.ts PATCH_BUNDLES, asked first thing); none in runs older than the bundles. */
  private readonly bundled: readonly string[];
  context: JsonObject;
  private journal: Journal = { steps: [] };
  private seq = 0;
  /** The visit in progress: what a cancellation marks CANCELLED. */
  current: StepRecord | undefined;
  private inbox: { eventName: string; since?: number; event?: TrackedEventSignal } | undefined;
  /** The visit a run that continued as new goes on with. */
  private resumed: StepRecord | undefined;
  /** The wait enrolment opened (input.openedWait), until the run's first visit, which is its. */
  private opened: OpenedWait | undefined;
  /** Set when an exit condition (goal) was reached: the execution ends EXITED with this reason. */
  exitReason: string | undefined;
  /** The scope the run's steps run in, while they run: cancelled when a goal is reached mid-step. */
  stepsScope: CancellationScope | undefined;

  /** Made first thing in a run: its first command is the patch marker. */
  constructor(input: ExecutionInput) {
    this.bundled = PATCH_BUNDLES.find((bundle) => patched(bundle.id))?.holds ?? [];
    this.input = input;
    this.context = { ...(input.resume?.context ?? input.context) };
    if (input.resume) {
      this.resumed = input.resume.visit;
      this.seq = input.resume.visit.seq - 1;
    }
    const opened = input.resume ? undefined : input.openedWait;
    const wait = opened && input.graph.steps.find((s): s is GraphStepOf<'WAIT_FOR_EVENT'> => s.id === opened.stepId && s.type === 'WAIT_FOR_EVENT');
    // Asked only of runs whose input says so: a worker of the code before opened the wait itself.
    if (opened && wait && this.patched(OPENED_WAIT)) {
      this.opened = opened;
      // Listening before the signal handler is set: an event delivered to the run before it reached
      // the wait (buffered, then handed over when the handler is set) is the wait's.
      this.listen(wait.config.eventName, Date.parse(opened.startedAt));
    }
  }

  /**
   * Whether the run applies patch `id`: each one its bundle holds; otherwise as the run's history
   * says (each patch asked where it always was).
   */
  patched(id: PatchId): boolean {
    return this.bundled.includes(id) || patched(id);
  }

  /** The step a run that continued as new goes on with (else the TRIGGER's successor). */
  get resumeStepId(): string | undefined {
    return this.resumed?.stepId;
  }

  /**
   * Opens the visit of a step: its record starts RUNNING (TRIGGER, recorded at enrolment, is visit
   * 0). The first visit of the wait enrolment opened is the one it recorded, WAITING.
   */
  visit(step: GraphStep): StepRecord {
    if (this.resumed?.stepId === step.id) {
      this.current = this.resumed;
      this.resumed = undefined;
      this.seq = this.current.seq;
      return this.current;
    }
    if (this.seq === 0 && this.opened?.stepId === step.id) {
      this.seq = 1;
      this.current = { seq: 1, stepId: step.id, type: step.type, name: step.name, status: 'WAITING', startedAt: this.opened.startedAt };
      return this.current;
    }
    this.seq += 1;
    this.current = { seq: this.seq, stepId: step.id, type: step.type, name: step.name, status: 'RUNNING', startedAt: now() };
    return this.current;
  }

  /**
   * Starts taking the first delivered event named `eventName`; the returned inbox receives it. With
   * `since` (epoch ms), an event that carries its record time is taken only when recorded after it.
   */
  listen(eventName: string, since?: number): { readonly event?: TrackedEventSignal } {
    this.inbox = { eventName, since };
    return this.inbox;
  }

  /**
   * The inbox of the wait enrolment opened, when `visit` is its visit: its record and the execution's
   * WAITING are in Postgres already, and the run has listened to it since its start.
   */
  openedWaitInbox(visit: StepRecord): { readonly event?: TrackedEventSignal } | undefined {
    return this.opened !== undefined && visit.seq === 1 && visit.stepId === this.opened.stepId ? this.inbox : undefined;
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
      this.stepsScope?.cancel();
      return;
    }
    const inbox = this.inbox;
    if (!inbox || inbox.event || inbox.eventName !== event.name) return;
    // Judged by when the event was recorded, not by when its signal came (a late delivery of an
    // earlier event, or a second delivery of the one an earlier wait took, is left alone).
    if (inbox.since !== undefined && event.recordedAt !== undefined && Date.parse(event.recordedAt) <= inbox.since) return;
    inbox.event = event;
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
    // A later status without a wait ends the wait the earlier one opened.
    this.journal.execution = { ...this.journal.execution, ...p, waitingFor: p.waitingFor };
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
