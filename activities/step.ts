/** The bookkeeping around a step activity: check the execution is active, write journal and visit. */
import { ApplicationFailure, Context } from '@temporalio/activity';
import { callWouldOutlive, lateFirstAttempt } from './attempt';
import { cancellationSignal, HEARTBEAT_EVERY_MS } from './cancellation';
import type { JsonObject, StepActivityBase, StepActivityResult, StepRecord } from '../core/execution';
import { type Db, prefixedRow, prepared, rowColumns, runPrepared, type Tx } from '../db/client';
import { contacts } from '../db/schema';
import { commandsQueued } from '../db/outbox';
import type { ContactRow } from '../db/contacts';
import {
  ACTIVE,
  CLAIMED_COLUMNS,
  type Claimed,
  claimAndRecord,
  type ClaimStatements,
  claimReading,
  lockExecution,
  withReplaced,
  writeRecordsAndPatch,
} from '../db/journal';
import type { ActivityDeps } from './deps';
import { buildVariables, type TemplateVariables } from '../core/render';

/**
 * What opening a step found: the step is open for its work (with its contact when it asked for it,
 * and the row its claim read); or it is settled already — the execution is no longer active, or an
 * earlier attempt completed the visit but its result never reached Temporal (its worker died, or it
 * outlived its timeout), so the retry answers that attempt's output.
 */
export type OpenedStep =
  | { open: true; projectId: string; contactId: string; depth: number; contact?: ContactRow; read: Record<string, unknown> }
  | { open: false; result: StepActivityResult };

/**
 * True when an earlier attempt may have done part of the work: a retry, any run of a local activity
 * (when its worker dies, the next worker runs it again from attempt 1), or an activity task that
 * follows a local first attempt (`req.earlierAttempt`).
 */
export function isRetry(req: Pick<StepActivityBase, 'earlierAttempt'>): boolean {
  const { attempt, isLocal } = Context.current().info;
  return isLocal || attempt > 1 || req.earlierAttempt === true;
}

/** A claim that also reads the execution's contact (`c.`-prefixed columns; none when it was erased). */
const claimWithContact = claimReading(
  'step.claim-with-contact',
  () => `select ${CLAIMED_COLUMNS}, ${rowColumns(contacts, 'c', 'c.')} from claimed left join contacts c on c.id = claimed.contact_id`,
);

/**
 * A retry's claim that also reads the contact: one statement, made only while no attempt has completed
 * the visit (seq `$first`, step `$first+1`) and no transaction changed the execution's row after the
 * statement began (such an attempt claimed the row in the transaction that completed the visit). No
 * row otherwise: openStep then claims and reads what that attempt recorded in statements of their own.
 */
const claimWithContactUnlessCompleted = claimReading(
  'step.claim-with-contact-unless-completed',
  () => `select ${CLAIMED_COLUMNS}, ${rowColumns(contacts, 'c', 'c.')} from claimed left join contacts c on c.id = claimed.contact_id`,
  {
    current: true,
    guard: (first) =>
      `not exists (select 1 from step_executions where execution_id = $1 and seq = $${first}::int and step_id = $${first + 1}::uuid and status = 'COMPLETED')`,
  },
);

/**
 * A claim that also locks and reads the execution's contact (a first attempt of a step that locks
 * it): the execution's row first, then the contact's, as openStep locked them in two statements.
 * No row when the contact was erased.
 */
const claimLockingContact = claimReading(
  'step.claim-locking-contact',
  () => `select ${CLAIMED_COLUMNS}, ${rowColumns(contacts, 'c', 'c.')}
     from claimed join contacts c on c.id = claimed.contact_id and c.project_id = claimed.project_id
      for update of c`,
);

type EarlierVisit = { stepId: string; status: string; output: unknown };

/** The visit (execution `$execution`, seq `$seq`) an earlier attempt may have recorded, as JSON (null when none did). */
const EARLIER_VISIT = (execution: number, seq: number) =>
  `(select json_build_object('stepId', step_id, 'status', status, 'output', output) from step_executions where execution_id = $${execution} and seq = $${seq}) as "earlierVisit"`;

/**
 * A retry's claim that also locks and reads the contact, and reads the visit an earlier attempt may
 * have recorded: one statement. Such an attempt claimed the execution's row in the transaction that
 * completed the visit, so the claim (made only while no transaction changed that row after the
 * statement began) sees its record. No row when the row did change (or the execution is inactive, or
 * its contact erased): openStep then takes two statements.
 */
const claimLockingContactWithVisit = claimReading(
  'step.claim-locking-contact-with-visit',
  (first) => `select ${CLAIMED_COLUMNS}, ${rowColumns(contacts, 'c', 'c.')}, ${EARLIER_VISIT(1, first)}
     from claimed join contacts c on c.id = claimed.contact_id and c.project_id = claimed.project_id
      for update of c`,
  { current: true },
);

const earlierVisit = prepared('step.earlier-visit', `select step_id as "stepId", status, output from step_executions where execution_id = $1 and seq = $2`);

/** The contact ($1 of project $2) row-locked, with the visit (execution $3, seq $4) an earlier attempt may have recorded: one round trip. */
const contactAndEarlierVisit = prepared(
  'step.contact-and-earlier-visit',
  `select ${rowColumns(contacts)}, ${EARLIER_VISIT(3, 4)}
   from contacts where id = $1 and project_id = $2 for update`,
);

const INACTIVE: OpenedStep = { open: false, result: { done: false, reason: 'inactive' } };

/**
 * A first attempt that took half its timeout to get here (a claim waits for the row lock) may have
 * been timed out and retried, and the retry may have closed the step and moved on: it rolls its
 * claim back and leaves the step to the retry.
 */
function leaveToRetryIfLate(): void {
  if (lateFirstAttempt()) throw ApplicationFailure.retryable('the attempt took half its start-to-close timeout to open its step', 'AttemptOutlived');
}

/**
 * Opens a step in the caller's transaction: claims the execution's row (locked, and only while it is
 * still active, making the visit its current step), writes the queued journal and — unless the step
 * finishes in this same transaction (`recordRunning: false`) — the visit as RUNNING, all in one
 * statement, which also reads what `read` asks for. `contact: 'read'` reads the contact with the
 * claim (as `c.`-prefixed columns of `read`'s statement, claimWithContact's when none is given);
 * `contact: 'lock'` also locks its row, after the execution's (a retry's claim also reads the visit an
 * earlier attempt may have recorded; when a transaction changed the execution's row while the claim
 * ran, the retry claims again and reads both in a second statement).
 */
export async function openStep(
  tx: Tx,
  req: StepActivityBase,
  options: { recordRunning?: boolean } & (
    | { contact?: 'read'; read?: { statements: ClaimStatements; values: unknown[] } }
    // The claim reads the contact it locks: no other read goes with it.
    | { contact: 'lock'; read?: never }
  ) = {},
): Promise<OpenedStep> {
  const running: StepRecord[] = options.recordRunning === false ? [] : [{ ...req.visit, status: 'RUNNING' }];
  const records = withReplaced(req.journal.steps, running);
  const retry = isRetry(req);
  // A retry that locks its contact: one statement, unless a transaction changed the execution's row
  // while it ran (then the two statements below).
  if (retry && options.contact === 'lock') {
    const [claimed] = await claimAndRecord<{ earlierVisit: EarlierVisit | null }>(tx, req.executionId, req.visit.stepId, records, undefined, {
      statements: claimLockingContactWithVisit,
      values: [req.visit.seq],
    });
    if (claimed) return opened(tx, req, retry, claimed, { asked: true, found: prefixedRow<ContactRow>(claimed, 'c.') }, claimed.earlierVisit ?? undefined);
  }
  // A retry that reads its contact (a local first attempt: an SMS's, a webhook's): one statement
  // claims, applies the journal's patch and reads the contact while no attempt has completed the
  // visit. The patch is safe then: the steps after the visit, which an old patch would undo, run only
  // once it is completed.
  if (retry && options.contact === 'read' && !options.read) {
    const claimedReading = await claimReadingContact(tx, req, records);
    if (claimedReading) return claimedReading;
  }
  // The records are written only when the claim succeeds; a retry's RUNNING record never reopens
  // the visit an earlier attempt closed (db/journal.ts). The journal's patch goes with the claim,
  // except a retry's: its earlier attempt may have completed the visit, and the steps after it may
  // have written the execution since, which the old patch would undo.
  const [claimed] = await claimAndRecord<Record<string, unknown>>(
    tx,
    req.executionId,
    req.visit.stepId,
    records,
    retry ? undefined : req.journal.execution,
    claimRead(options, retry),
  );
  leaveToRetryIfLate();
  let contact = options.contact === 'read' || (options.contact === 'lock' && !retry) ? claimed && prefixedRow<ContactRow>(claimed, 'c.') : undefined;
  if (!retry) return opened(tx, req, retry, claimed, { asked: options.contact !== undefined, found: contact });
  // Only a retry can find its visit completed. Checked after the claim, which waits for an earlier
  // attempt still committing under the row lock (a statement's own reads would not see that
  // attempt's commit); before the inactive answer, since that attempt may have closed the
  // execution along with the step. A step that locks its contact reads both at once.
  let earlier: EarlierVisit | undefined;
  if (claimed && options.contact === 'lock') {
    const [row] = await runPrepared<ContactRow & { earlierVisit: EarlierVisit | null }>(tx, contactAndEarlierVisit, [
      claimed.contactId,
      claimed.projectId,
      req.executionId,
      req.visit.seq,
    ]);
    if (row) {
      const { earlierVisit: found, ...own } = row;
      contact = own;
      earlier = found ?? undefined;
    }
  } else {
    [earlier] = await runPrepared<EarlierVisit>(tx, earlierVisit, [req.executionId, req.visit.seq]);
  }
  return opened(tx, req, retry, claimed, { asked: options.contact !== undefined, found: contact }, earlier);
}

/**
 * What a claim opened: the step, or what settles it — the output of the visit an earlier attempt
 * completed (a retry passes what it found as `earlier`), or the inactive answer when nothing was
 * claimed or the contact the step asked for was erased.
 */
async function opened(
  tx: Tx,
  req: StepActivityBase,
  /** The journal's patch is still to write: a retry's claim left it out. */
  patchLeftOut: boolean,
  claimed: Claimed<Record<string, unknown>> | undefined,
  contact: { asked: boolean; found: ContactRow | undefined },
  earlier?: EarlierVisit,
): Promise<OpenedStep> {
  if (earlier?.stepId === req.visit.stepId && earlier.status === 'COMPLETED') {
    return { open: false, result: { done: true, output: earlier.output } };
  }
  if (!claimed) return INACTIVE;
  // A retry's visit is newer than any current step the journal names.
  if (patchLeftOut && req.journal.execution) await writeRecordsAndPatch(tx, req.executionId, [], { ...req.journal.execution, currentStepId: undefined });
  // The contact was erased (with its executions).
  if (contact.asked && !contact.found?.id) return INACTIVE;
  return { open: true, projectId: claimed.projectId, contactId: claimed.contactId, depth: claimed.depth, contact: contact.found, read: claimed };
}

/**
 * The one-statement claim of a retry that reads its contact (openStep): claims, applies the
 * journal's patch, records the visit RUNNING and reads the contact while no attempt has completed
 * the visit; undefined when it claimed nothing.
 */
async function claimReadingContact(tx: Tx, req: StepActivityBase, records: StepRecord[]): Promise<OpenedStep | undefined> {
  const [claimed] = await claimAndRecord<Record<string, unknown>>(tx, req.executionId, req.visit.stepId, records, req.journal.execution, {
    statements: claimWithContactUnlessCompleted,
    values: [req.visit.seq, req.visit.stepId],
  });
  if (!claimed) return undefined;
  leaveToRetryIfLate();
  // The patch went with the claim.
  return opened(tx, req, false, claimed, { asked: true, found: prefixedRow<ContactRow>(claimed, 'c.') });
}

/**
 * A local first attempt's claim that only reads its contact (a webhook's): openStep's one-statement
 * claim for it (claimReadingContact), run on the database itself, so committed on its own; the
 * request is then rendered outside any transaction (two round trips fewer on the way to the call).
 * The claim still orders the call after a cancel committed before it, which leaves nothing to
 * claim; a failure before the call (a late attempt, a template that does not render) leaves the
 * claim standing, which is what the retry's claim or the run's failure writes again. Undefined
 * unless it opened the step: openStep, in a transaction, then finds out why.
 */
export async function openLocalAttemptAlone(db: Db, req: StepActivityBase): Promise<OpenStep | undefined> {
  if (!Context.current().info.isLocal) return undefined;
  const step = await claimReadingContact(db, req, withReplaced(req.journal.steps, [{ ...req.visit, status: 'RUNNING' }]));
  return step?.open ? step : undefined;
}

/**
 * What a step's claim reads besides the execution: the caller's statements, or the contact — locked
 * by a first attempt's claim; a retry whose one-statement claim found the row changed locks it after
 * claiming again, with the visit an earlier attempt may have recorded (contactAndEarlierVisit).
 */
function claimRead(options: Parameters<typeof openStep>[2], retry: boolean): { statements: ClaimStatements; values: unknown[] } | undefined {
  if (options?.contact === 'lock') return retry ? undefined : { statements: claimLockingContact, values: [] };
  return options?.read ?? (options?.contact === 'read' ? { statements: claimWithContact, values: [] } : undefined);
}

/** Closes a step: records the visit COMPLETED with its output and applies the `after` patch. */
export async function closeStep(tx: Tx, req: StepActivityBase, output: unknown): Promise<void> {
  await writeRecordsAndPatch(tx, req.executionId, [completedVisit(req, output)], req.after);
}

/** The visit's final record, COMPLETED with `output` now. */
function completedVisit(req: StepActivityBase, output: unknown): StepRecord {
  return { ...req.visit, status: 'COMPLETED', output, completedAt: new Date().toISOString() };
}

/** The execution a step opened on. */
export type OpenStep = Extract<OpenedStep, { open: true }>;

/** What a contact step's work gets inside its transaction. */
export interface ContactStepScope {
  tx: Tx;
  owner: OpenStep;
  /** The execution's contact, row-locked until the commit. */
  contact: ContactRow;
  vars: TemplateVariables;
  /** Renders the `{{variables}}` in a JSON object's strings with the step's variables. */
  renderJson: (value: JsonObject) => Promise<JsonObject>;
}

/** The step's output. */
export interface ContactStepDone {
  output: unknown;
}

/**
 * Runs a step that completes in one transaction: opens it (no RUNNING record first), locks its
 * contact, does `work` and closes the step with the output, so a retry answers the first attempt's
 * output instead of doing the work twice. Wakes the dispatcher after a commit that queued commands
 * (most contact changes queue none: no workflow follows from their events, no run waits for them).
 */
export async function runContactStep(
  { database, renderer, onCommandsQueued }: Pick<ActivityDeps, 'database' | 'renderer' | 'onCommandsQueued'>,
  req: StepActivityBase & { context: JsonObject },
  work: (scope: ContactStepScope) => Promise<ContactStepDone>,
): Promise<StepActivityResult> {
  let queued = false;
  const result = await database.db.transaction(async (tx): Promise<StepActivityResult> => {
    // The contact's row lock orders the step's events and enrolments with the contact's other ones.
    const owner = await openStep(tx, req, { recordRunning: false, contact: 'lock' });
    if (!owner.open) return owner.result;
    const contact = owner.contact!;
    const vars = buildVariables({ contact, context: req.context });
    const renderJson = async (value: JsonObject) => (await renderer.values(vars, [], value)).json as JsonObject;
    const done = await work({ tx, owner, contact, vars, renderJson });
    await closeStep(tx, req, done.output);
    queued = commandsQueued(tx);
    return { done: true, output: done.output };
  });
  if (queued) onCommandsQueued();
  return result;
}

/**
 * Re-checks, right before a side effect (an SMTP or HTTP call), that the execution is still active.
 * One statement under the row lock: a cancel being committed at this moment is waited for and seen;
 * a cancel that comes later reaches the call through Temporal (activities/cancellation.ts). An
 * attempt with too little of its start-to-close timeout left for the call (which may take up to
 * `callBoundMs`) fails retryably instead: Temporal could start its retry while the call is still
 * on the wire, and the retry would make it a second time.
 */
export async function stillActive(db: Tx, executionId: string, callBoundMs: number): Promise<boolean> {
  assertCallFits(callBoundMs);
  return (await lockExecution(db, executionId)).active;
}

const executionActive = prepared('step.execution-active', `select status in (${ACTIVE}) as active from executions where id = $1`);

/**
 * The signal a step's outside call (an SMTP send, a webhook) is given: the attempt's cancellation
 * (cancellation.ts: Temporal's, or the worker's shutdown grace ending). A local first attempt hears of
 * Temporal's cancellation only once its workflow task ends, so it also watches its execution's row
 * once a heartbeat interval (the first look after one: a short call asks nothing), and the signal is
 * aborted once a look finds the execution no longer active or erased: the API's cancel commits there
 * at once. A failed look is no answer; the next one asks again. `inactive()` says whether that watch
 * ended the call (the cancel's transaction then wrote the step); `stop` ends the watch.
 */
export function outsideCallSignal(db: Db, executionId: string): { signal: AbortSignal; inactive(): boolean; stop(): void } {
  const cancelled = cancellationSignal();
  if (!Context.current().info.isLocal) return { signal: cancelled, inactive: () => false, stop: () => undefined };
  const watch = new AbortController();
  let looking = false;
  const timer = setInterval(() => {
    if (looking) return;
    looking = true;
    runPrepared<{ active: boolean }>(db, executionActive, [executionId])
      .then(([row]) => {
        if (!row?.active) watch.abort(new Error('the execution is no longer active'));
      })
      .catch(() => undefined)
      .finally(() => (looking = false));
  }, HEARTBEAT_EVERY_MS);
  return { signal: AbortSignal.any([cancelled, watch.signal]), inactive: () => watch.signal.aborted, stop: () => clearInterval(timer) };
}

/**
 * Fails a local first attempt retryably when the worker has begun to shut down (`shuttingDown`):
 * its call is left to an activity task, which a worker still running takes, instead of running on
 * in a workflow task of a worker that is going away.
 */
export function assertNotShuttingDown(shuttingDown: AbortSignal | undefined): void {
  if (Context.current().info.isLocal && shuttingDown?.aborted) {
    throw ApplicationFailure.retryable('the worker is shutting down: the call is left to an activity task', 'WorkerShutdown');
  }
}

/**
 * Fails the attempt retryably when an outside call that may take up to `callBoundMs` could outlast
 * what is left of its start-to-close timeout (attempt.ts callWouldOutlive).
 */
export function assertCallFits(callBoundMs: number): void {
  if (callWouldOutlive(callBoundMs)) {
    throw ApplicationFailure.retryable("the call could outlast what is left of the attempt's start-to-close timeout", 'AttemptOutlived');
  }
}

/**
 * Closes a step whose work happened outside the transaction that opened it, only while the
 * execution is still active: an answer that arrives after a cancel is never recorded as the step's
 * result (the cancel recorded the step CANCELLED). One statement, committed on its own when `db` is
 * the database: the claim's (claimAndRecord), which writes the record and the `after` patch only
 * where it finds the execution active, and sets its current step to the one it already is. Answers
 * whether it was recorded.
 */
export async function closeStepIfActive(db: Tx, req: StepActivityBase, output: unknown): Promise<boolean> {
  return (await claimAndRecord(db, req.executionId, req.visit.stepId, [completedVisit(req, output)], req.after)).length > 0;
}
