/**
 * Attempts that overlap. A first attempt of a step task that Temporal may already have timed out
 * and retried: one that took half its start-to-close timeout to open its step (held on the
 * execution's row lock) rolls its claim back and leaves the step to its retry (a WEBHOOK's local
 * first attempt, whose claim is a statement committed on its own, leaves the claim standing, as
 * its retry claims again); one with less of its
 * timeout left than its outside call may take (the HTTP client's 10 s) does not make the call. A
 * local attempt the worker cancels (its timeout) while it waits on a row lock gives its connection
 * up; one run again after its visit completed answers that visit's output, also when that visit's
 * transaction commits while the re-run waits on its row lock (an UPDATE_CONTACT's, whose claim locks
 * the contact, and a WEBHOOK's, whose one-statement claim reads it: neither calls again). A WEBHOOK
 * that is the graph's last step records its answer and the execution COMPLETED by one statement,
 * and neither once the execution was cancelled while its call was out. The activity runs as the
 * worker runs it (its attempt clock included), against the real database and a real HTTP receiver;
 * Temporal's timing is stood for by the attempt's info (a short start-to-close timeout, a cancel).
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MockActivityEnvironment } from '@temporalio/testing';
import { withAttemptClock } from '../../activities/attempt';
import { bookkeepingActivities } from '../../activities/bookkeeping';
import { updateContactActivities } from '../../activities/update-contact';
import { createHttpClient } from '../../activities/http';
import { createRenderer } from '../../activities/renderer';
import { webhookActivities } from '../../activities/webhook';
import type { ActivityDeps } from '../../activities/deps';
import { EVENT_SIGNAL, temporalWorkflowId } from '../../core/execution';
import { claimAndRecord } from '../../db/journal';
import { buildWorkflow } from '../support/builders';
import { onlyExecutionIn, runStarted } from '../support/executions';
import { startTestApp, waitFor, type TestApp } from '../support/harness';
import { startHttpServer, type TestHttpServer } from '../support/http-server';
import { fileDatabaseUrl } from '../support/file-databases';

describe('a late first attempt', () => {
  let app: TestApp;
  let receiver: TestHttpServer;
  const renderer = createRenderer({ threads: 1 });

  beforeAll(async () => {
    app = await startTestApp();
    receiver = await startHttpServer();
  });
  afterAll(async () => {
    await receiver?.close();
    await renderer.close();
    await app?.close();
  });

  /** An execution waiting in a day-long DELAY, and a WEBHOOK visit of it as the worker would run one. */
  async function waitingRun(email: string) {
    const { api } = app;
    const wf = await buildWorkflow(api, {
      name: `late ${email}`,
      eventName: `late_${email.split('@')[0]}`,
      steps: [
        { key: 'wait', type: 'DELAY', config: { amount: 1, unit: 'days' } },
        { key: 'call', type: 'WEBHOOK', config: { url: `${receiver.url}/${email}` } },
      ],
      edges: [
        ['trigger', 'wait'],
        ['wait', 'call'],
      ],
    });
    const tracked = await api.post('/v1/track', { event: `late_${email.split('@')[0]}`, email });
    const execution = await onlyExecutionIn(api, wf.id, tracked.body.data.contact, ['WAITING']);
    const request = {
      executionId: execution.id as string,
      journal: { steps: [] },
      visit: { seq: 2, stepId: wf.steps.call!, type: 'WEBHOOK' as const, name: 'call', status: 'RUNNING' as const, startedAt: new Date().toISOString() },
      config: { url: `${receiver.url}/${email}` },
      context: {},
      workflow: { id: wf.id, name: `late ${email}` },
    };
    const { callWebhook } = withAttemptClock(
      webhookActivities({ database: app.trellis.database, http: createHttpClient({ allowPrivate: true }), renderer } as unknown as ActivityDeps),
    );
    return { wf, execution, request, callWebhook };
  }

  /** The execution's row as the projection has it, with its step records. */
  async function row(executionId: string) {
    const { rows } = await app.trellis.database.pool.query(
      `select e.status, e.current_step_id as "currentStepId", (select json_agg(s.seq order by s.seq) from step_executions s where s.execution_id = e.id) as seqs
         from executions e where e.id = $1`,
      [executionId],
    );
    return rows[0];
  }

  /** Holds the execution's row lock from another connection until `release` is called. */
  async function holdRow(executionId: string): Promise<{ pid: number; release: () => Promise<void> }> {
    const client = new pg.Client({ connectionString: fileDatabaseUrl() });
    await client.connect();
    await client.query('begin');
    await client.query('select 1 from executions where id = $1 for update', [executionId]);
    const { rows } = await client.query('select pg_backend_pid() as pid');
    return {
      pid: rows[0].pid as number,
      async release() {
        await client.query('commit');
        await client.end();
      },
    };
  }

  /**
   * Cancels the local attempt `env` runs (`attempt`) once its statement waits on the held row lock,
   * as the worker does at its timeout, and checks that the statement was cancelled in Postgres and
   * its connection closed: its backend is gone though the lock is still held. Only the lock's own
   * waiters are looked at (other tests share the database).
   */
  async function cancelWhileWaiting(env: MockActivityEnvironment, attempt: Promise<unknown>, held: { pid: number }, what: string): Promise<void> {
    const { pool } = app.trellis.database;
    const outcome = expect(attempt).rejects.toThrow();
    const waiters = async () =>
      (await pool.query<{ pid: number }>(`select pid from pg_stat_activity where $1 = any(pg_blocking_pids(pid))`, [held.pid])).rows.map((r) => r.pid);
    const [waiting] = await waitFor(async () => {
      const pids = await waiters();
      return pids.length === 1 ? pids : undefined;
    }, `${what} to wait on the row lock`);
    env.cancel('TIMED_OUT');
    await outcome;
    await waitFor(async () => (await pool.query(`select 1 from pg_stat_activity where pid = $1`, [waiting])).rowCount === 0, 'the waiting backend to end');
    expect(await waiters()).toEqual([]);
  }

  it('that waited half its timeout on the row lock rolls its claim back and leaves the step to its retry', async () => {
    const { execution, request, callWebhook } = await waitingRun('held@example.com');
    const before = await row(execution.id);
    const held = await holdRow(execution.id);
    const env = new MockActivityEnvironment({ attempt: 1, startToCloseTimeoutMs: 2000 });
    const attempt = env.run(callWebhook, request);
    const outcome = expect(attempt).rejects.toMatchObject({ type: 'AttemptOutlived' });
    // Held past half the timeout, then let go: the claim goes through, then rolls back.
    await new Promise((r) => setTimeout(r, 1500));
    await held.release();
    await outcome;
    expect(receiver.requests.filter((r) => r.path === '/held@example.com')).toHaveLength(0);
    expect(await row(execution.id)).toEqual(before);
  });

  it('run locally and late, leaves its claim standing (a statement committed on its own) and makes no call; its retry claims again and calls once', async () => {
    const { wf, execution, request, callWebhook } = await waitingRun('held-local@example.com');
    const before = await row(execution.id);
    const held = await holdRow(execution.id);
    const env = new MockActivityEnvironment({ attempt: 1, isLocal: true, startToCloseTimeoutMs: 2000 });
    const attempt = env.run(callWebhook, request);
    const outcome = expect(attempt).rejects.toMatchObject({ type: 'AttemptOutlived' });
    await new Promise((r) => setTimeout(r, 1500));
    await held.release();
    await outcome;
    expect(receiver.requests.filter((r) => r.path === '/held-local@example.com')).toHaveLength(0);
    // No transaction to roll back: the visit is claimed, RUNNING, as the retry claims it.
    expect(await row(execution.id)).toEqual({ ...before, currentStepId: wf.steps.call, seqs: [0, 1, 2] });
    const retry = new MockActivityEnvironment({ attempt: 1, startToCloseTimeoutMs: 15_000 });
    expect(await retry.run(callWebhook, { ...request, earlierAttempt: true })).toMatchObject({ done: true, output: { status: 200 } });
    expect(receiver.requests.filter((r) => r.path === '/held-local@example.com')).toHaveLength(1);
  });

  it('that is not late makes its call and records it (the same visit, the lock held briefly)', async () => {
    const { execution, request, callWebhook } = await waitingRun('brief@example.com');
    const held = await holdRow(execution.id);
    // WEBHOOK's own timeout: room for the 10 s call after the 0.1 s wait.
    const env = new MockActivityEnvironment({ attempt: 1, startToCloseTimeoutMs: 15_000 });
    const attempt = env.run(callWebhook, request);
    await new Promise((r) => setTimeout(r, 100));
    await held.release();
    expect(await attempt).toMatchObject({ done: true, output: { status: 200, body: { ok: true } } });
    expect(receiver.requests.filter((r) => r.path === '/brief@example.com')).toHaveLength(1);
    expect((await row(execution.id)).seqs).toEqual([0, 1, 2]);
  });

  it('as the last step, records its answer and the execution COMPLETED when active, and neither once the execution was cancelled', async () => {
    const { pool } = app.trellis.database;
    const after = { status: 'COMPLETED' as const, completed: true };
    const run = () => new MockActivityEnvironment({ attempt: 1, isLocal: true, startToCloseTimeoutMs: 15_000 });
    const state = async (executionId: string) =>
      (
        await pool.query(
          `select e.status, e.completed_at is not null as completed, s.status as "stepStatus", s.output
             from executions e left join step_executions s on s.execution_id = e.id and s.seq = 2 where e.id = $1`,
          [executionId],
        )
      ).rows[0];

    const active = await waitingRun('last@example.com');
    expect(await run().run(active.callWebhook, { ...active.request, after })).toEqual({ done: true, output: { status: 200, body: { ok: true } } });
    expect(await state(active.execution.id)).toEqual({
      status: 'COMPLETED',
      completed: true,
      stepStatus: 'COMPLETED',
      output: { status: 200, body: { ok: true } },
    });

    // Cancelled while the call is out: the answer comes back to an execution no longer active.
    const cancelled = await waitingRun('last-cancelled@example.com');
    const held = receiver.hold('/last-cancelled@example.com');
    const attempt = run().run(cancelled.callWebhook, { ...cancelled.request, after });
    const request = await held;
    const r = await app.api.delete(`/workflows/${cancelled.wf.id}/executions/${cancelled.execution.id}`);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const before = await state(cancelled.execution.id);
    request.answer(200, { late: true });
    expect(await attempt).toEqual({ done: false, reason: 'inactive' });
    receiver.release('/last-cancelled@example.com');
    expect(before).toMatchObject({ status: 'CANCELLED', stepStatus: 'CANCELLED', output: null });
    expect(await state(cancelled.execution.id)).toEqual(before);
  });

  it('run locally again after its visit completed (its marker lost) makes no second call and its old patch does not undo what came after', async () => {
    const { execution, request, callWebhook } = await waitingRun('again@example.com');
    const local = () => new MockActivityEnvironment({ attempt: 1, isLocal: true, startToCloseTimeoutMs: 15_000 });
    const first = await local().run(callWebhook, request);
    expect(first).toMatchObject({ done: true, output: { status: 200, body: { ok: true } } });
    // What a step after the call wrote (a wait), before the worker that made the call died.
    await app.trellis.database.pool.query(`update executions set status = 'WAITING' where id = $1`, [execution.id]);
    // The same visit run again from attempt 1, with the journal it was first given.
    const again = await local().run(callWebhook, { ...request, journal: { steps: [], execution: { status: 'RUNNING' as const } } });
    expect(again).toEqual(first);
    expect(receiver.requests.filter((r) => r.path === '/again@example.com')).toHaveLength(1);
    expect((await row(execution.id)).status).toBe('WAITING');
  });

  it('run locally again while its earlier attempt commits the visit makes no second call and answers that output', async () => {
    const { execution, request, callWebhook } = await waitingRun('racing@example.com');
    // The earlier attempt: it holds the execution's row, records the visit COMPLETED and commits
    // while the re-run's claim waits on the row lock.
    const earlier = new pg.Client({ connectionString: fileDatabaseUrl() });
    await earlier.connect();
    await earlier.query('begin');
    await earlier.query('select 1 from executions where id = $1 for update', [execution.id]);
    const output = { status: 200, body: { earlier: true } };
    await earlier.query(
      `insert into step_executions (execution_id, seq, step_id, type, name, status, output, started_at, completed_at)
       values ($1, 2, $2, 'WEBHOOK', 'call', 'COMPLETED', $3, now(), now())`,
      [execution.id, request.visit.stepId, JSON.stringify(output)],
    );
    await earlier.query('update executions set current_step_id = $2 where id = $1', [execution.id, request.visit.stepId]);
    const again = new MockActivityEnvironment({ attempt: 1, isLocal: true, startToCloseTimeoutMs: 15_000 }).run(callWebhook, {
      ...request,
      journal: { steps: [], execution: { status: 'RUNNING' as const } },
    });
    await new Promise((r) => setTimeout(r, 100));
    await earlier.query('commit');
    await earlier.end();
    expect(await again).toEqual({ done: true, output });
    expect(receiver.requests.filter((r) => r.path === '/racing@example.com')).toHaveLength(0);
    expect((await row(execution.id)).status).toBe('WAITING');
  });

  it('with less of its timeout left than its call may take does not make it', async () => {
    const { execution, request, callWebhook } = await waitingRun('old@example.com');
    const before = await row(execution.id);
    // 10.5 s of start-to-close: not late opening its step (half of it), but the HTTP client may take
    // 10 s and a second is kept spare.
    const env = new MockActivityEnvironment({ attempt: 1, startToCloseTimeoutMs: 10_500 });
    await expect(env.run(callWebhook, request)).rejects.toMatchObject({ type: 'AttemptOutlived' });
    expect(receiver.requests.filter((r) => r.path === '/old@example.com')).toHaveLength(0);
    // Its claim rolled back with it: the step is left to its retry as if this attempt never ran.
    expect(await row(execution.id)).toEqual(before);
  });

  it('never reopens a visit its retry closed', async () => {
    const { execution, request, callWebhook } = await waitingRun('closed@example.com');
    // The retry's work: the visit COMPLETED with the receiver's answer.
    const retry = new MockActivityEnvironment({ attempt: 2, startToCloseTimeoutMs: 15_000 });
    expect(await retry.run(callWebhook, request)).toMatchObject({ done: true, output: { status: 200 } });
    // A first attempt opening the same visit afterwards: its RUNNING record leaves the COMPLETED one.
    const claimed = await app.trellis.database.db.transaction((tx) =>
      claimAndRecord(tx, execution.id, request.visit.stepId, [{ ...request.visit, status: 'RUNNING' }]),
    );
    expect(claimed).toHaveLength(1);
    const { rows } = await app.trellis.database.pool.query(`select status, output from step_executions where execution_id = $1 and seq = 2`, [execution.id]);
    expect(rows).toEqual([{ status: 'COMPLETED', output: { status: 200, body: { ok: true } } }]);
  });

  it('run locally, its one-statement claim gives its connection up when the worker cancels it while it waits on a row lock', async () => {
    const { execution, request, callWebhook } = await waitingRun('alone@example.com');
    const before = await row(execution.id);
    const held = await holdRow(execution.id);
    const env = new MockActivityEnvironment({ attempt: 1, isLocal: true, startToCloseTimeoutMs: 15_000 });
    await cancelWhileWaiting(env, env.run(callWebhook, request), held, 'the claim');
    await held.release();
    expect(receiver.requests.filter((r) => r.path === '/alone@example.com')).toHaveLength(0);
    expect(await row(execution.id)).toEqual(before);
  });

  it('run locally gives its connection up when the worker cancels it (its timeout) while it waits on a row lock', async () => {
    const { execution } = await waitingRun('local@example.com');
    const before = await row(execution.id);
    const held = await holdRow(execution.id);
    const { database } = app.trellis;
    const { flushJournal } = withAttemptClock(bookkeepingActivities({ database } as unknown as ActivityDeps));
    const env = new MockActivityEnvironment({ attempt: 1, isLocal: true, startToCloseTimeoutMs: 10_000 });
    const flush = env.run(flushJournal, {
      executionId: execution.id,
      journal: { steps: [], execution: { status: 'RUNNING' as const, exitReason: 'flushed' } },
    });
    await cancelWhileWaiting(env, flush, held, 'the flush');
    // And a transaction begun under the cancelled signal never starts.
    await expect(env.run(flushJournal, { executionId: execution.id, journal: { steps: [] } })).rejects.toThrow();
    await held.release();
    expect(await row(execution.id)).toEqual(before);
  });

  /**
   * A run waiting in a DELAY after an UPDATE_CONTACT visit that completed (plan: pro), and the
   * activity that runs such a visit (one that must not render: a re-run answers the earlier output).
   */
  async function updatedRun(tag: string) {
    const { api } = app;
    const wf = await buildWorkflow(api, {
      name: tag,
      eventName: tag,
      steps: [
        { key: 'update', type: 'UPDATE_CONTACT', config: { data: { plan: '{{event.plan}}' } } },
        { key: 'wait', type: 'DELAY', config: { amount: 1, unit: 'days' } },
      ],
      edges: [
        ['trigger', 'update'],
        ['update', 'wait'],
      ],
    });
    const tracked = await api.post('/v1/track', { event: tag, email: `${tag}@example.com`, data: { plan: 'pro' } });
    const execution = await onlyExecutionIn(api, wf.id, tracked.body.data.contact, ['WAITING']);
    const visit = execution.steps[1];
    expect(visit).toMatchObject({ type: 'UPDATE_CONTACT', status: 'COMPLETED', output: { data: { plan: 'pro' } } });
    const { updateContact } = withAttemptClock(
      updateContactActivities({
        database: app.trellis.database,
        renderer: { values: () => Promise.reject(new Error('a re-run must not render again')) },
        onCommandsQueued: () => undefined,
      } as unknown as ActivityDeps),
    );
    return { contactId: tracked.body.data.contact as string, execution, visit, updateContact };
  }

  it('run locally again after its visit completed (its marker lost with its worker) answers that output and changes nothing', async () => {
    const { contactId, execution, visit, updateContact } = await updatedRun('rerun');
    const contactRow = async () => (await app.trellis.database.pool.query('select data, updated_at from contacts where id = $1', [contactId])).rows[0];
    const before = await contactRow();
    // The same visit run again from attempt 1, with other data and the journal it was first given
    // (the execution RUNNING again after the trigger): only the earlier run's work counts, and the
    // old patch does not undo what the DELAY after it wrote.
    const rerun = await new MockActivityEnvironment({ attempt: 1, isLocal: true }).run(updateContact, {
      executionId: execution.id,
      journal: { steps: [], execution: { status: 'RUNNING' as const } },
      visit: { seq: 1, stepId: visit.stepId, type: 'UPDATE_CONTACT' as const, name: visit.name, status: 'RUNNING' as const, startedAt: visit.startedAt },
      data: { plan: 'basic' },
      context: {},
    });
    expect(rerun).toEqual({ done: true, output: visit.output });
    expect(await contactRow()).toEqual(before);
    expect((await row(execution.id)).status).toBe('WAITING');
    const { rows } = await app.trellis.database.pool.query(`select status, output from step_executions where execution_id = $1 and seq = 1`, [execution.id]);
    expect(rows).toEqual([{ status: 'COMPLETED', output: visit.output }]);
  });

  it('run locally again while its earlier attempt commits the visit answers that output and changes nothing', async () => {
    const { contactId, execution, visit, updateContact } = await updatedRun('race');
    const { pool } = app.trellis.database;
    const contactData = async () => (await pool.query('select data from contacts where id = $1', [contactId])).rows[0].data;
    // The earlier attempt as it commits: its visit still RUNNING for everyone else, its transaction
    // holding the execution's row (claimed) and completing the visit.
    await pool.query(`update step_executions set status = 'RUNNING', output = null, completed_at = null where execution_id = $1 and seq = 1`, [execution.id]);
    const earlier = new pg.Client({ connectionString: fileDatabaseUrl() });
    await earlier.connect();
    await earlier.query('begin');
    await earlier.query('update executions set current_step_id = current_step_id where id = $1', [execution.id]);
    await earlier.query(`update step_executions set status = 'COMPLETED', output = $2, completed_at = now() where execution_id = $1 and seq = 1`, [
      execution.id,
      JSON.stringify(visit.output),
    ]);
    const { rows: pids } = await earlier.query('select pg_backend_pid() as pid');
    const rerun = new MockActivityEnvironment({ attempt: 1, isLocal: true }).run(updateContact, {
      executionId: execution.id,
      journal: { steps: [] },
      visit: { seq: 1, stepId: visit.stepId, type: 'UPDATE_CONTACT' as const, name: visit.name, status: 'RUNNING' as const, startedAt: visit.startedAt },
      data: { plan: 'basic' },
      context: {},
    });
    // The re-run's claim waits for the earlier attempt's row lock; then that attempt commits.
    await waitFor(
      async () => (await pool.query(`select 1 from pg_stat_activity where $1 = any(pg_blocking_pids(pid))`, [pids[0].pid])).rowCount === 1,
      'the re-run to wait on the row lock',
    );
    await earlier.query('commit');
    await earlier.end();
    expect(await rerun).toEqual({ done: true, output: visit.output });
    expect(await contactData()).toEqual({ plan: 'pro' });
    const { rows } = await pool.query(`select status, output from step_executions where execution_id = $1 and seq = 1`, [execution.id]);
    expect(rows).toEqual([{ status: 'COMPLETED', output: visit.output }]);
  });

  /**
   * A run waiting for an event whose execution row turns `status` behind its back, then the event's
   * signal: stands for a workflow task that runs again after its local activities committed
   * (Temporal refuses a run's completion while a signal arrives), whose steps then find what their
   * earlier attempt wrote.
   */
  async function finishedBehind(tag: string, status: string, error: string | null) {
    const { api } = app;
    const wf = await buildWorkflow(api, {
      name: `behind ${tag}`,
      eventName: `behind_${tag}`,
      steps: [
        { key: 'wait', type: 'WAIT_FOR_EVENT', config: { eventName: `behind_${tag}_done`, timeout: 86_400 } },
        { key: 'mark', type: 'UPDATE_CONTACT', config: { data: { marked: true } } },
      ],
      edges: [
        ['trigger', 'wait'],
        ['wait', 'mark', 'event'],
      ],
    });
    const tracked = await api.post('/v1/track', { event: `behind_${tag}`, email: `behind-${tag}@example.com` });
    const execution = await onlyExecutionIn(api, wf.id, tracked.body.data.contact, ['WAITING']);
    await runStarted(app.trellis.client, execution.id);
    await app.trellis.database.pool.query(`update executions set status = $2, error = $3, completed_at = now() where id = $1`, [execution.id, status, error]);
    const handle = app.trellis.client.workflow.getHandle(temporalWorkflowId(execution.id));
    await handle.signal(EVENT_SIGNAL, { eventId: randomUUID(), name: `behind_${tag}_done`, data: {}, recordedAt: new Date().toISOString() });
    return { handle, contactId: tracked.body.data.contact as string };
  }

  it('whose execution an earlier attempt of its own workflow task completed completes the run', async () => {
    const { handle, contactId } = await finishedBehind('completed', 'COMPLETED', null);
    // Not left waiting ten minutes for a cancellation that never comes, then failed.
    expect(await handle.result()).toEqual({ status: 'COMPLETED' });
    expect((await handle.describe()).status.name).toBe('COMPLETED');
    // The step found the execution inactive and changed nothing.
    expect((await app.api.get(`/contacts/${contactId}`)).body.data).toEqual({});
  });

  it("whose execution was failed behind it fails the run with the execution's error", async () => {
    const error = 'step "mark" (UPDATE_CONTACT) failed: as recorded';
    const { handle } = await finishedBehind('failed', 'FAILED', error);
    await expect(handle.result()).rejects.toMatchObject({ cause: { message: error, type: 'StepFailed' } });
    expect((await handle.describe()).status.name).toBe('FAILED');
  });
});
