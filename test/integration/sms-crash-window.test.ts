/**
 * SEND_SMS's one duplicate window (as for email, SPEC §7.4): the provider took the message, and the
 * worker dies before the send is recorded (the recording transaction waits on a row lock the test
 * holds, so it dies uncommitted). The retry on a new worker sends again — the one allowed duplicate —
 * and the message is recorded once.
 */
import { Client as PgClient } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWorkflow } from '../support/builders';
import { finishedExecution } from '../support/executions';
import { startTestApp, waitFor, type TestApp } from '../support/harness';
import { startHttpServer, type TestHttpServer } from '../support/http-server';
import { startWorkerProcess, type WorkerProcess } from '../support/worker-process';
import { fileDatabaseUrl } from '../support/file-databases';

const SID = 'ACcrash';
const PATH = `/2010-04-01/Accounts/${SID}/Messages.json`;

describe('a worker killed between the provider’s answer and the record', () => {
  let app: TestApp;
  let provider: TestHttpServer;
  let pg: PgClient;
  const workers: WorkerProcess[] = [];

  beforeAll(async () => {
    provider = await startHttpServer();
    app = await startTestApp({ env: { ROLE: 'api' } });
    pg = new PgClient({ connectionString: fileDatabaseUrl() });
    await pg.connect();
    await app.api.client.updateSettings({ body: { sms: { accountSid: SID, authToken: 'tok', from: '+14155550100', baseUrl: provider.url } } });
  });
  afterAll(async () => {
    for (const w of workers) await w.kill();
    await pg?.end();
    await app?.close();
    await provider?.close();
  });

  it('sends again on the retry (the named duplicate window) and records the message once', async () => {
    const { api } = app;
    const wf = await buildWorkflow(api, {
      eventName: 'dispatched',
      steps: [
        { key: 'text', type: 'SEND_SMS', config: { body: 'Your technician is on the way' } },
        { key: 'mark', type: 'UPDATE_CONTACT', config: { data: { told: true } } },
      ],
      edges: [
        ['trigger', 'text'],
        ['text', 'mark'],
      ],
    });
    const env = { WEBHOOK_ALLOW_PRIVATE: 'true' };
    workers.push(await startWorkerProcess(app.trellis.config.taskQueue, env));
    const held = provider.hold(PATH);
    const tracked = await api.post('/v1/track', { event: 'dispatched', email: 'crash-sms@example.com', data: { phone: '+14155550177' } });
    expect(tracked.status).toBe(200);

    const first = await held;
    const [execution] = (await api.get(`/workflows/${wf.id}/executions`)).body.data;
    // The provider takes the message while the test holds the execution's row: the record waits.
    await pg.query('begin');
    await pg.query('select id from executions where id = $1 for update', [execution.id]);
    provider.release(PATH);
    provider.on(PATH, () => ({ status: 201, body: { sid: `SM-${provider.requests.length}` } }));
    first.answer(201, { sid: 'SM-first' });
    const [{ pid: holder }] = (await pg.query('select pg_backend_pid() as pid')).rows;
    const observer = new PgClient({ connectionString: fileDatabaseUrl() });
    await observer.connect();
    try {
      await waitFor(
        async () => {
          const { rows } = await observer.query<{ n: number }>('select count(*)::int as n from pg_stat_activity where $1 = any(pg_blocking_pids(pid))', [
            holder,
          ]);
          return rows[0]!.n > 0;
        },
        'the record to wait on the row lock',
        60_000,
      );
    } catch (err) {
      // What the worker and the database did instead, for a failure on a loaded machine.
      const { rows } = await observer.query(
        'select pid, state, wait_event_type, wait_event, left(query, 160) as query from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()',
      );
      throw new Error(
        `${(err as Error).message}; provider calls: ${provider.requests.filter((r) => r.path === PATH).length}; backends: ${JSON.stringify(rows)}; worker output:\n${workers[0]!.output().slice(-2000)}`,
      );
    } finally {
      await observer.end();
    }
    await workers[0]!.kill();
    await pg.query('rollback');
    workers.push(await startWorkerProcess(app.trellis.config.taskQueue, env));

    // The attempt times out (15 s start-to-close); the retry finds no record and sends again.
    const done = await finishedExecution(api, wf.id, execution.id, 90_000);
    expect(done.status).toBe('COMPLETED');
    const calls = provider.requests.filter((r) => r.path === PATH);
    expect(calls).toHaveLength(2);
    expect(calls.map((c) => new URLSearchParams(c.body).get('To'))).toEqual(['+14155550177', '+14155550177']);
    const messages = await api.client.listMessages({ query: { executionId: execution.id } });
    expect(messages.data.map((m) => [m.status, m.providerId])).toEqual([['SENT', 'SM-2']]);
    expect(done.steps.map((s: { type: string; status: string }) => `${s.type}:${s.status}`)).toEqual([
      'TRIGGER:COMPLETED',
      'SEND_SMS:COMPLETED',
      'UPDATE_CONTACT:COMPLETED',
    ]);
  }, 150_000);
});
