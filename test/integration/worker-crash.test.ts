/**
 * Durability (SPEC §1, §6, §7.4): the worker is a separate process (`app/main.ts`, ROLE=worker; the
 * API runs in this process with ROLE=api) that is killed with SIGKILL while executions sit in a
 * DELAY, in a WAIT_FOR_EVENT and inside SEND_EMAIL; a new worker finishes every one of them, and
 * every email reaches the SMTP server once — except in the one window §7.4 allows (the server
 * accepted, the send was not recorded yet), where the duplicate has the same Message-ID.
 *
 * The windows of a SEND_EMAIL attempt, as this file drives them:
 *   1. killed before the server accepted (DATA pending): nothing was delivered; the retry sends once;
 *   2. killed after the server accepted, before the send was recorded (the recording transaction is
 *      held on a row lock, so it dies uncommitted): the retry sends again, with the same Message-ID —
 *      the one allowed duplicate;
 *   3. the send was recorded but Temporal never took the attempt's result (the attempt outlived its
 *      start-to-close timeout, which is how Temporal sees an attempt whose worker died right after
 *      the commit): the retry finds the record and does not send again, and the execution, which
 *      that attempt already closed, still closes COMPLETED in Temporal.
 * The same happens to the bookkeeping write that closes an execution (end of a WAIT_FOR_EVENT), a
 * local activity: the worker retries it after its start-to-close timeout.
 */
import { Client as PgClient } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { temporalWorkflowId } from '../../core/execution';
import { messageIdFor } from '../../activities/send-email';
import { buildWorkflow, createTemplate } from '../support/builders';
import { startTestApp, waitFor, type TestApp } from '../support/harness';
import { startSmtp, type ReceivedMail, type TestSmtp } from '../support/smtp';
import { startWorkerProcess, type WorkerProcess } from '../support/worker-process';
import { fileDatabaseUrl } from '../support/file-databases';

const PUBLIC_URL = 'http://trellis.test';

/** A transaction that holds a row lock until `release()`. */
interface Hold {
  release(): Promise<void>;
  /**
   * Resolves once `count` other backends (default 1) wait for this lock, directly or behind a
   * backend that does.
   */
  blocking(what: string, timeoutMs?: number, count?: number): Promise<void>;
  /** The backends waiting for this lock (as `blocking` counts them), with when their statement began. */
  waiters(): Promise<{ pid: number; since: number }[]>;
}

function deferred<T = void>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** Execution id and step id out of a Trellis Message-ID (`<execution.step@host>`). */
function idsOf(mail: ReceivedMail): { executionId: string; stepId: string } {
  const m = /^<([0-9a-f-]{36})\.([0-9a-f-]{36})@/.exec(mail.parsed.messageId ?? '');
  if (!m) throw new Error(`unexpected Message-ID ${mail.parsed.messageId}`);
  return { executionId: m[1]!, stepId: m[2]! };
}

describe('a worker killed with SIGKILL', () => {
  let app: TestApp;
  let smtp: TestSmtp;
  let observer: PgClient;
  const holds: Hold[] = [];
  const workers: WorkerProcess[] = [];
  const releaseAll = deferred();

  /** Starts a worker process on the API's task queue, sending through the test SMTP server. */
  async function startWorker(): Promise<WorkerProcess> {
    const w = await startWorkerProcess(app.trellis.config.taskQueue, { SMTP_URL: smtp.url, PUBLIC_URL });
    workers.push(w);
    return w;
  }

  async function kill(w: WorkerProcess): Promise<void> {
    await w.kill();
  }

  /**
   * Holds the row of a visit's step record (`step` by id, or `seq`), so that an attempt writing it
   * blocks: after its side effect, before its commit.
   */
  async function holdStepRecord(executionId: string, step: { stepId: string } | { seq: number }): Promise<Hold> {
    const c = new PgClient({ connectionString: fileDatabaseUrl() });
    await c.connect();
    await c.query('begin');
    const r =
      'seq' in step
        ? await c.query('select seq from step_executions where execution_id = $1 and seq = $2 for update', [executionId, step.seq])
        : await c.query('select seq from step_executions where execution_id = $1 and step_id = $2 for update', [executionId, step.stepId]);
    expect(r.rowCount).toBe(1);
    const [{ pid }] = (await c.query('select pg_backend_pid() as pid')).rows;
    let released = false;
    const hold: Hold = {
      async release() {
        if (released) return;
        released = true;
        await c.query('rollback');
        await c.end();
      },
      async blocking(what, timeoutMs, count = 1) {
        await waitFor(async () => (await hold.waiters()).length >= count, what, timeoutMs);
      },
      async waiters() {
        const b = await observer.query(
          `with waiting as (select pid, query_start, pg_blocking_pids(pid) as by from pg_stat_activity)
           select w.pid, w.query_start as since from waiting w
            where $1 = any(w.by) or exists (select 1 from waiting v where v.pid = any(w.by) and $1 = any(v.by))`,
          [pid],
        );
        return b.rows.map((r) => ({ pid: r.pid as number, since: (r.since as Date).getTime() }));
      },
    };
    holds.push(hold);
    return hold;
  }

  /**
   * Waits until the execution's send is retried after its first attempt timed out: the first attempt
   * is a local activity, and the activity task that takes over from it is the retry.
   */
  async function waitForRetry(executionId: string, what: string): Promise<void> {
    const handle = app.trellis.client.workflow.getHandle(temporalWorkflowId(executionId));
    await waitFor(async () => (await handle.describe()).raw.pendingActivities?.[0]?.activityType?.name === 'sendEmail', what, 60_000);
  }

  async function execution(workflowId: string): Promise<any> {
    const list = await app.api.get(`/workflows/${workflowId}/executions`);
    expect(list.body.total).toBe(1);
    return app.api.get(`/workflows/${workflowId}/executions/${list.body.data[0].id}`).then((r) => r.body);
  }

  async function waitForStatus(workflowId: string, status: string, timeoutMs = 20_000): Promise<any> {
    return waitFor(
      async () => {
        const list = await app.api.get(`/workflows/${workflowId}/executions`);
        return list.body.total === 1 && list.body.data[0].status === status ? list.body.data[0] : undefined;
      },
      `an execution of ${workflowId} ${status}`,
      timeoutMs,
    );
  }

  beforeAll(async () => {
    smtp = await startSmtp();
    app = await startTestApp({ env: { ROLE: 'api', SMTP_URL: smtp.url, PUBLIC_URL } });
    observer = new PgClient({ connectionString: fileDatabaseUrl() });
    await observer.connect();
  });

  afterAll(async () => {
    releaseAll.resolve();
    for (const w of workers) {
      if (w.child.exitCode === null && w.child.signalCode === null) {
        w.child.kill('SIGTERM');
        const timer = setTimeout(() => w.child.kill('SIGKILL'), 15_000);
        await w.exited;
        clearTimeout(timer);
      }
    }
    for (const h of holds) await h.release().catch(() => undefined);
    await observer?.end();
    await app?.close();
    await smtp?.close();
  });

  it('loses no execution and sends every email once (a duplicate only from the allowed window, with the same Message-ID)', { timeout: 300_000 }, async () => {
    const { api } = app;
    expect((await api.get('/readyz')).status).toBe(200);
    const t = async (subject: string) => createTemplate(api, { subject, body: `<p>${subject}</p>`, type: 'TRANSACTIONAL' });
    const [afterDelay, afterEvent, held, next, windowMail, recorded] = await Promise.all(
      ['after the delay', 'after the event', 'held in DATA', 'after the held one', 'accepted, not recorded', 'recorded, not reported'].map(t),
    );
    const delayWf = await buildWorkflow(api, {
      eventName: 'crash_delay',
      steps: [
        { key: 'wait', type: 'DELAY', config: { amount: 1, unit: 'minutes' } },
        { key: 'mail', type: 'SEND_EMAIL', config: { templateId: afterDelay } },
      ],
      edges: [
        ['trigger', 'wait'],
        ['wait', 'mail'],
      ],
    });
    const waitWf = await buildWorkflow(api, {
      eventName: 'crash_wait',
      steps: [
        { key: 'wait', type: 'WAIT_FOR_EVENT', config: { eventName: 'crash_release', timeout: 3600 } },
        { key: 'mail', type: 'SEND_EMAIL', config: { templateId: afterEvent } },
      ],
      edges: [
        ['trigger', 'wait'],
        ['wait', 'mail', 'event'],
      ],
    });
    const heldWf = await buildWorkflow(api, {
      eventName: 'crash_held',
      steps: [
        { key: 'mail', type: 'SEND_EMAIL', config: { templateId: held } },
        { key: 'next', type: 'SEND_EMAIL', config: { templateId: next } },
      ],
      edges: [
        ['trigger', 'mail'],
        ['mail', 'next'],
      ],
    });
    const windowWf = await buildWorkflow(api, {
      eventName: 'crash_window',
      steps: [{ key: 'mail', type: 'SEND_EMAIL', config: { templateId: windowMail } }],
      edges: [['trigger', 'mail']],
    });
    const recordWf = await buildWorkflow(api, {
      eventName: 'crash_record',
      steps: [{ key: 'mail', type: 'SEND_EMAIL', config: { templateId: recorded } }],
      edges: [['trigger', 'mail']],
    });
    const flushWf = await buildWorkflow(api, {
      eventName: 'crash_flush',
      steps: [{ key: 'wait', type: 'WAIT_FOR_EVENT', config: { eventName: 'crash_flush_go', timeout: 3600 } }],
      edges: [['trigger', 'wait']],
    });

    // SMTP: the "held" message waits in DATA until its client goes away; the first copies of the
    // other two are accepted while the test holds the row their step's completion is written to.
    const heldArrived = deferred<ReceivedMail>();
    const windowAccepted = deferred<{ mail: ReceivedMail; hold: Hold }>();
    const recordAccepted = deferred<{ mail: ReceivedMail; hold: Hold }>();
    let holdHeld = true;
    const firstCopy = (subject: string) => smtp.messages.every((m) => m.parsed.subject !== subject);
    smtp.beforeAccept(async (mail, client) => {
      const subject = mail.parsed.subject!;
      if (subject === 'held in DATA' && holdHeld) {
        heldArrived.resolve(mail);
        await Promise.race([client.gone, releaseAll.promise]);
      } else if (subject === 'accepted, not recorded' && firstCopy(subject)) {
        const { executionId, stepId } = idsOf(mail);
        windowAccepted.resolve({ mail, hold: await holdStepRecord(executionId, { stepId }) });
      } else if (subject === 'recorded, not reported' && firstCopy(subject)) {
        const { executionId, stepId } = idsOf(mail);
        recordAccepted.resolve({ mail, hold: await holdStepRecord(executionId, { stepId }) });
      }
    });

    const first = await startWorker();
    for (const [event, email] of [
      ['crash_delay', 'delay@example.com'],
      ['crash_wait', 'wait@example.com'],
      ['crash_held', 'held@example.com'],
      ['crash_window', 'window@example.com'],
    ]) {
      expect((await api.post('/v1/track', { event, email })).status).toBe(200);
    }
    await waitForStatus(delayWf.id, 'WAITING');
    await waitForStatus(waitWf.id, 'WAITING');
    await heldArrived.promise;
    const windowCase = await windowAccepted.promise;
    await windowCase.hold.blocking('the first worker recording the accepted email');
    const heldRunning = await waitForStatus(heldWf.id, 'RUNNING');
    expect(heldRunning.currentStepId).toBe(heldWf.steps.mail);
    expect(smtp.messages.map((m) => m.parsed.subject)).toEqual(['accepted, not recorded']);

    // Kill the worker: the held message is never accepted (window 1); the accepted one's record is
    // rolled back with the dead worker's transaction (window 2).
    await kill(first);
    await waitFor(async () => smtp.abandoned.length === 1, 'the held message to be abandoned');
    expect(smtp.abandoned[0]!.parsed.subject).toBe('held in DATA');
    holdHeld = false;
    await windowCase.hold.release();
    const windowRecord = await api.get(`/emails?executionId=${idsOf(windowCase.mail).executionId}`);
    expect(windowRecord.body.total).toBe(0);

    const acceptedAt: { subject: string; at: number }[] = [];
    smtp.onAccepted((mail) => acceptedAt.push({ subject: mail.parsed.subject!, at: Date.now() }));
    await startWorker();
    const upAt = Date.now();

    // The wait is released by an event tracked after the restart.
    expect((await api.post('/v1/track', { event: 'crash_release', email: 'wait@example.com' })).status).toBe(200);

    await Promise.all([
      (async () => {
        // Window 3: a send recorded by an attempt whose result Temporal no longer takes.
        expect((await api.post('/v1/track', { event: 'crash_record', email: 'record@example.com' })).status).toBe(200);
        const { mail, hold } = await recordAccepted.promise;
        await hold.blocking('the second worker recording the accepted email');
        await waitForRetry(idsOf(mail).executionId, 'the send to be retried after its start-to-close timeout');
        await hold.release();
      })(),
      (async () => {
        // The same for the bookkeeping write that closes an execution (the end of a WAIT_FOR_EVENT).
        expect((await api.post('/v1/track', { event: 'crash_flush', email: 'flush@example.com' })).status).toBe(200);
        const waiting = await waitForStatus(flushWf.id, 'WAITING');
        const hold = await holdStepRecord(waiting.id, { seq: 1 });
        expect((await api.post('/v1/track', { event: 'crash_flush_go', email: 'flush@example.com' })).status).toBe(200);
        await hold.blocking('the final bookkeeping write');
        const [first] = await hold.waiters();
        // A local activity: the worker cancels it at its 10 s start-to-close timeout and retries it.
        // The cancel reaches the transaction waiting on the lock (activities/attempt.ts): the retry
        // waits alone, the first attempt's connection given up.
        const retried = await waitFor(
          async () => {
            const waiting = await hold.waiters();
            return waiting.some((w) => w.since > first!.since + 5_000) ? waiting : undefined;
          },
          'the final bookkeeping write to be retried after its start-to-close timeout',
          60_000,
        );
        expect(retried).toHaveLength(1);
        await hold.release();
      })(),
    ]);

    // Everything finishes: the held send after its attempt times out (30 s), the delay after 1 min.
    const done = await Promise.all([delayWf, waitWf, heldWf, windowWf, recordWf, flushWf].map((wf) => waitForStatus(wf.id, 'COMPLETED', 120_000)));
    // SPEC §6: the sends in flight on the dead worker resume within a minute of another worker being up.
    for (const subject of ['held in DATA', 'accepted, not recorded']) {
      const resumed = acceptedAt.find((a) => a.subject === subject);
      expect(resumed, subject).toBeDefined();
      expect(resumed!.at - upAt, subject).toBeLessThan(60_000);
    }
    // Temporal's own status agrees with the API (SPEC §11).
    const labels = ['delay', 'wait', 'held', 'window', 'record', 'flush'];
    for (const [i, e] of done.entries()) {
      let last = '';
      await waitFor(async () => {
        last = (await app.trellis.client.workflow.getHandle(temporalWorkflowId(e.id)).describe()).status.name;
        return last === 'COMPLETED';
      }, `Temporal to close the ${labels[i]} execution as COMPLETED`).catch((err: Error) => {
        throw new Error(`${err.message} (it is ${last})`);
      });
    }

    const [delayExec, waitExec, heldExec, windowExec, recordExec, flushExec] = await Promise.all(
      [delayWf, waitWf, heldWf, windowWf, recordWf, flushWf].map((wf) => execution(wf.id)),
    );
    expect(recordExec.steps.map((s: any) => [s.type, s.status])).toEqual([
      ['TRIGGER', 'COMPLETED'],
      ['SEND_EMAIL', 'COMPLETED'],
    ]);
    expect(recordExec.steps[1].output).toMatchObject({ status: 'SENT', messageId: messageIdFor(recordExec.id, recordWf.steps.mail!, PUBLIC_URL) });
    expect(flushExec.steps.map((s: any) => [s.type, s.status, s.output?.outcome ?? null])).toEqual([
      ['TRIGGER', 'COMPLETED', null],
      ['WAIT_FOR_EVENT', 'COMPLETED', 'event'],
    ]);
    expect(delayExec.steps.map((s: any) => [s.type, s.status])).toEqual([
      ['TRIGGER', 'COMPLETED'],
      ['DELAY', 'COMPLETED'],
      ['SEND_EMAIL', 'COMPLETED'],
    ]);
    expect(delayExec.steps[1].output).toEqual({ waitedMs: 60_000 });
    expect(waitExec.steps[1]).toMatchObject({ type: 'WAIT_FOR_EVENT', status: 'COMPLETED', output: { outcome: 'event' } });
    expect(heldExec.steps.map((s: any) => [s.stepId, s.status])).toEqual([
      [heldWf.triggerId, 'COMPLETED'],
      [heldWf.steps.mail, 'COMPLETED'],
      [heldWf.steps.next, 'COMPLETED'],
    ]);

    // Every email once per Message-ID; the one duplicate is window 2's, with the same Message-ID.
    const expected = new Map<string, string>([
      [messageIdFor(delayExec.id, delayWf.steps.mail!, PUBLIC_URL), 'after the delay'],
      [messageIdFor(waitExec.id, waitWf.steps.mail!, PUBLIC_URL), 'after the event'],
      [messageIdFor(heldExec.id, heldWf.steps.mail!, PUBLIC_URL), 'held in DATA'],
      [messageIdFor(heldExec.id, heldWf.steps.next!, PUBLIC_URL), 'after the held one'],
      [messageIdFor(windowExec.id, windowWf.steps.mail!, PUBLIC_URL), 'accepted, not recorded'],
      [messageIdFor(recordExec.id, recordWf.steps.mail!, PUBLIC_URL), 'recorded, not reported'],
    ]);
    const copies = new Map<string, string[]>();
    for (const m of smtp.messages) copies.set(m.parsed.messageId!, [...(copies.get(m.parsed.messageId!) ?? []), m.parsed.subject!]);
    expect(Object.fromEntries(copies)).toEqual(
      Object.fromEntries([...expected].map(([id, subject]) => [id, subject === 'accepted, not recorded' ? [subject, subject] : [subject]])),
    );

    const emails = await api.get('/emails?pageSize=100');
    expect(emails.body.total).toBe(6);
    expect(Object.fromEntries((emails.body.data as any[]).map((e) => [e.messageId, [e.subject, e.status]]))).toEqual(
      Object.fromEntries([...expected].map(([id, subject]) => [id, [subject, 'SENT']])),
    );
  });
});
