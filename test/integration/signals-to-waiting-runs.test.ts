import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Client as PgClient } from 'pg';
import { startTrellis, type Trellis } from '../../app/trellis';
import { buildWorkflow } from '../support/builders';
import { executionIn, finishedExecution, onlyExecutionIn } from '../support/executions';
import { startTestApp, testConfig, waitFor, workflowBundle, type TestApp } from '../support/harness';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy';

describe('events reach only the runs that wait for them', () => {
  let proxy: TcpProxy;
  let app: TestApp;
  let worker: Trellis;
  let pg: PgClient;

  beforeAll(async () => {
    // The API (and its outbox dispatcher) reaches Temporal through a proxy the test can hold; the worker connects directly.
    proxy = await startTcpProxy(inject('temporalAddress'));
    app = await startTestApp({ env: { ROLE: 'api', TEMPORAL_ADDRESS: proxy.address } });
    worker = await startTrellis({ ...testConfig({ ROLE: 'worker' }), taskQueue: app.trellis.config.taskQueue }, { workflowBundle: workflowBundle() });
    pg = new PgClient({ connectionString: inject('databaseUrl') });
    await pg.connect();
  });
  afterAll(async () => {
    await pg?.end();
    await app?.close();
    await worker?.close();
    await proxy?.close();
  });

  async function track(event: string, email: string, data?: Record<string, unknown>) {
    const r = await app.api.post('/v1/track', { event, email, ...(data ? { data } : {}) });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    return r.body.data as { contact: string; event: string };
  }
  const historyOf = async (executionId: string) =>
    (await app.trellis.client.workflow.getHandle(`trellis-execution-${executionId}`).fetchHistory()).events ?? [];
  const signalsIn = (history: Awaited<ReturnType<typeof historyOf>>) =>
    history.filter((e) => e.workflowExecutionSignaledEventAttributes).map((e) => e.workflowExecutionSignaledEventAttributes!.input!.payloads!.length);

  it('leaves a run in a DELAY alone, however many events of a name it waits for later are tracked', async () => {
    const wf = await buildWorkflow(app.api, {
      eventName: 'subscribed_trial',
      steps: [
        { key: 'pause', type: 'DELAY', config: { amount: 1, unit: 'hours' } },
        { key: 'click', type: 'WAIT_FOR_EVENT', config: { eventName: 'clicked', timeout: 600 } },
      ],
      edges: [
        ['trigger', 'pause'],
        ['pause', 'click'],
      ],
    });
    const { contact } = await track('subscribed_trial', 'chatty@example.com');
    const run = await onlyExecutionIn(app.api, wf.id, contact, ['WAITING']);
    expect(run.currentStepId).toBe(wf.steps.pause);

    for (let batch = 0; batch < 10; batch += 1) {
      await Promise.all(Array.from({ length: 20 }, (_, i) => track('clicked', 'chatty@example.com', { n: batch * 20 + i, blob: 'x'.repeat(2000) })));
    }
    await app.trellis.dispatcher.drain();
    const events = await app.api.get(`/events?contactId=${contact}&name=clicked&pageSize=1`);
    expect(events.body.total).toBe(200);

    const history = await historyOf(run.id);
    expect(signalsIn(history)).toEqual([]);
    expect(history.length).toBeLessThan(40);
    expect((await app.api.delete(`/workflows/${wf.id}/executions/${run.id}`)).status).toBe(200);
  });

  it('judges an event by when it was recorded, not by when its delivery arrives', async () => {
    const wf = await buildWorkflow(app.api, {
      eventName: 'checkout',
      steps: [
        { key: 'first', type: 'WAIT_FOR_EVENT', config: { eventName: 'ping', timeout: 2 } },
        { key: 'early', type: 'UPDATE_CONTACT', config: { data: { took: 'first wait' } } },
        { key: 'second', type: 'WAIT_FOR_EVENT', config: { eventName: 'ping', timeout: 300 } },
        { key: 'late', type: 'UPDATE_CONTACT', config: { data: { took: 'second wait: {{event.n}}' } } },
      ],
      edges: [
        ['trigger', 'first'],
        ['first', 'early', 'event'],
        ['first', 'second', 'timeout'],
        ['second', 'late', 'event'],
      ],
    });
    const { contact } = await track('checkout', 'pinger@example.com');
    const run = await onlyExecutionIn(app.api, wf.id, contact, ['WAITING']);
    expect(run.currentStepId).toBe(wf.steps.first);

    // Temporal is out of the API's reach: the first ping is queued for the first wait, not delivered.
    proxy.down();
    let second: { event: string };
    try {
      await track('ping', 'pinger@example.com', { n: 1 });
      // The first wait times out and the second starts; a ping tracked now belongs to it.
      await waitFor(async () => {
        const e = await app.api.client.getExecution({ params: { id: wf.id, executionId: run.id } });
        return e.status === 'WAITING' && e.currentStepId === wf.steps.second;
      }, 'the second wait');
      second = await track('ping', 'pinger@example.com', { n: 2 });
    } finally {
      proxy.up();
    }

    // Both deliveries now reach the second wait, the older first: it takes the one recorded after it started.
    const done = await finishedExecution(app.api, wf.id, run.id, 30_000);
    expect(done.status).toBe('COMPLETED');
    expect(done.steps.map((s: any) => [s.stepId, s.status, s.output])).toEqual([
      [wf.triggerId, 'COMPLETED', expect.anything()],
      [wf.steps.first, 'COMPLETED', { outcome: 'timeout' }],
      [wf.steps.second, 'COMPLETED', { outcome: 'event', eventId: second.event }],
      [wf.steps.late, 'COMPLETED', expect.anything()],
    ]);
    expect((await app.api.get(`/contacts/${contact}`)).body.data).toEqual({ n: 2, took: 'second wait: 2' });
    expect(signalsIn(await historyOf(run.id))).toEqual([1, 1]);
  });

  it('takes an event tracked after the wait started but before the projection showed it, from Postgres', async () => {
    const wf = await buildWorkflow(app.api, {
      eventName: 'ordered',
      steps: [
        { key: 'go', type: 'WAIT_FOR_EVENT', config: { eventName: 'go', timeout: 300 } },
        { key: 'paid', type: 'WAIT_FOR_EVENT', config: { eventName: 'paid', timeout: 300 } },
        { key: 'thank', type: 'UPDATE_CONTACT', config: { data: { thanked: true } } },
      ],
      edges: [
        ['trigger', 'go'],
        ['go', 'paid'],
        ['paid', 'thank', 'event'],
      ],
    });
    const { contact } = await track('ordered', 'payer@example.com');
    const run = await onlyExecutionIn(app.api, wf.id, contact, ['WAITING']);

    // Hold the execution's row: the run reaches the `paid` wait, but cannot show it in the projection yet.
    const observer = new PgClient({ connectionString: inject('databaseUrl') });
    await observer.connect();
    await pg.query('begin');
    let paid: { event: string };
    try {
      await pg.query('select id from executions where id = $1 for update', [run.id]);
      const holder = (await pg.query('select pg_backend_pid() as pid')).rows[0].pid;
      await track('go', 'payer@example.com');
      // The `paid` wait's start (startWait, with the `go` step's record) waits for the row.
      await waitFor(async () => {
        const blocked = await observer.query('select count(*)::int as n from pg_stat_activity where $1 = any(pg_blocking_pids(pid))', [holder]);
        return blocked.rows[0].n > 0;
      }, 'the paid wait starting');
      // Tracked now, while the projection still shows the `go` wait: no signal is queued for it.
      paid = await track('paid', 'payer@example.com', { amount: 12 });
      const queued = await pg.query("select count(*)::int as n from outbox where execution_id = $1 and kind = 'signal'", [run.id]);
      expect(queued.rows[0].n).toBe(0);
    } finally {
      await pg.query('rollback');
      await observer.end();
    }

    const done = await executionIn(app.api, wf.id, run.id, ['COMPLETED', 'FAILED']);
    expect(done.status).toBe('COMPLETED');
    expect(done.steps[2]).toMatchObject({ stepId: wf.steps.paid, output: { outcome: 'event', eventId: paid.event } });
    expect((await app.api.get(`/contacts/${contact}`)).body.data).toEqual({ amount: 12, thanked: true });
    // Only `go` came as a signal; `paid` came from Postgres when the wait started.
    expect(signalsIn(await historyOf(run.id))).toEqual([1]);
  });
});
