import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Client as PgClient } from 'pg';
import { startTrellis, type Trellis } from '../../app/trellis';
import { temporalWorkflowId } from '../../core/execution';
import { buildWorkflow } from '../support/builders';
import { executionIn, finishedExecution, onlyExecutionIn, runStarted } from '../support/executions';
import { startTestApp, testConfig, waitFor, workflowBundle, type TestApp } from '../support/harness';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy';
import { outboxCommandsTotal } from '../../telemetry/metrics';
import { temporal } from '@temporalio/proto';
import { fileDatabaseUrl } from '../support/file-databases';

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
    pg = new PgClient({ connectionString: fileDatabaseUrl() });
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
    return r.body.data as { contact: string; event: string; timestamp: string };
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
    // WAITING from its enrolment on: its first wait's timer runs once the run has started.
    await runStarted(app.trellis.client, run.id);

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
    const observer = new PgClient({ connectionString: fileDatabaseUrl() });
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

  /** A workflow started by `trigger` that waits for `go`, then marks the contact with the event's `n`. */
  const waitForGo = (trigger: string) =>
    buildWorkflow(app.api, {
      eventName: trigger,
      steps: [
        { key: 'go', type: 'WAIT_FOR_EVENT', config: { eventName: 'go', timeout: 300 } },
        { key: 'mark', type: 'UPDATE_CONTACT', config: { data: { went: '{{event.n}}' } } },
      ],
      edges: [
        ['trigger', 'go'],
        ['go', 'mark', 'event'],
      ],
    });

  it("delivers an existing contact's event to a wait that opened while the event's one statement waited for the contact's row", async () => {
    const wf = await waitForGo('opening');
    const { contact } = await track('opening', 'opening@example.com');
    const run = await onlyExecutionIn(app.api, wf.id, contact, ['WAITING']);
    // The projection as it was before the wait opened: the run waits for nothing yet.
    await pg.query("update executions set status = 'RUNNING', waiting_for = null where id = $1", [run.id]);

    const holder = new PgClient({ connectionString: fileDatabaseUrl() });
    await holder.connect();
    let tracked: Promise<{ event: string }>;
    try {
      // The wait opens as startWait opens it: the contact's row held shared, the projection changed, not yet committed.
      await holder.query('begin');
      await holder.query('select id from contacts where id = $1 for share', [contact]);
      await holder.query("update executions set status = 'WAITING', waiting_for = 'go' where id = $1", [run.id]);
      const pid = (await holder.query('select pg_backend_pid() as pid')).rows[0].pid;
      // No data, no tags: the event goes by itself (recordQuietEvent), and its statement waits for the row.
      tracked = track('go', 'opening@example.com');
      await waitFor(async () => {
        const blocked = await pg.query<{ query: string }>('select query from pg_stat_activity where $1 = any(pg_blocking_pids(pid))', [pid]);
        return blocked.rows.some((r) => r.query.includes('trellis_runs_reached') && r.query.startsWith('with contact as'));
      }, "the event's statement waiting for the contact's row");
      await holder.query('commit');
    } finally {
      await holder.end();
    }
    // Read after the lock, the runs reached include the wait that committed meanwhile: it gets the event.
    const { event } = await tracked;
    const done = await executionIn(app.api, wf.id, run.id, ['COMPLETED', 'FAILED']);
    expect(done.status).toBe('COMPLETED');
    expect(done.steps[1]).toMatchObject({ stepId: wf.steps.go, output: { outcome: 'event', eventId: event } });
  });

  it('opens a first WAIT_FOR_EVENT at enrolment: WAITING before its run starts, the event tracked meanwhile taken in its first task, no wait opened by the run', async () => {
    const wf = await waitForGo('arrived');
    // Temporal is out of the API's reach: the run's start waits in the outbox.
    proxy.down();
    let run: any;
    let went: { event: string };
    try {
      const { contact } = await track('arrived', 'early@example.com');
      run = await onlyExecutionIn(app.api, wf.id, contact, ['WAITING']);
      expect(run.currentStepId).toBe(wf.steps.go);
      const opened = await app.api.client.getExecution({ params: { id: wf.id, executionId: run.id } });
      expect(opened.steps.map((s: any) => [s.stepId, s.status])).toEqual([
        [wf.triggerId, 'COMPLETED'],
        [wf.steps.go, 'WAITING'],
      ]);
      // Recorded after the wait opened: queued for the run, behind its start.
      went = await track('go', 'early@example.com', { n: 7 });
      const queued = await pg.query('select kind from outbox where execution_id = $1 order by id', [run.id]);
      expect(queued.rows.map((r) => r.kind)).toEqual(['start', 'signal']);
      // No worker polls while both go out: the run's first task holds its start and the event's signal.
      await worker.close();
    } finally {
      proxy.up();
    }
    await waitFor(async () => (await pg.query('select 1 from outbox where execution_id = $1', [run.id])).rowCount === 0, 'the start and the signal sent');
    worker = await startTrellis({ ...testConfig({ ROLE: 'worker' }), taskQueue: app.trellis.config.taskQueue }, { workflowBundle: workflowBundle() });

    const done = await finishedExecution(app.api, wf.id, run.id, 30_000);
    expect(done.status).toBe('COMPLETED');
    expect(done.steps[1]).toMatchObject({ stepId: wf.steps.go, status: 'COMPLETED', output: { outcome: 'event', eventId: went.event } });
    expect((await app.api.get(`/contacts/${run.contactId}`)).body.data).toEqual({ n: 7, went: '7' });
    // The projection shows the end when the last step's local activity commits; its marker is in
    // the history once the workflow task that ran it completes, with the run.
    await app.trellis.client.workflow.getHandle(temporalWorkflowId(run.id)).result();
    const history = await historyOf(run.id);
    const type = (e: (typeof history)[number]) => temporal.api.enums.v1.EventType[e.eventType!];
    expect(history.slice(0, 3).map(type)).toEqual([
      'EVENT_TYPE_WORKFLOW_EXECUTION_STARTED',
      'EVENT_TYPE_WORKFLOW_TASK_SCHEDULED',
      'EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED',
    ]);
    // The run began in the open wait: its first local activity is the step after it.
    const localActivities = history
      .filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity')
      .map((e) => JSON.parse(Buffer.from(e.markerRecordedEventAttributes!.details!.data!.payloads![0]!.data!).toString()).activity_type);
    expect(localActivities).toEqual(['updateContact']);
    expect(signalsIn(history)).toEqual([1]);
  });

  it('sends a delivery whose process died before sending it once its lease runs out', async () => {
    const wf = await waitForGo('enquired');
    const { contact } = await track('enquired', 'orphaned@example.com');
    const run = await onlyExecutionIn(app.api, wf.id, contact, ['WAITING']);
    // What a /v1/track transaction leaves when its process dies between the commit and the send:
    // the event recorded, its delivery leased (here for 2 s instead of 15).
    const event = await pg.query<{ id: string; created_at: Date }>(
      `insert into events (project_id, contact_id, name, data, created_at)
       select project_id, id, 'go', '{}', clock_timestamp() from contacts where id = $1 returning id, created_at`,
      [contact],
    );
    const [{ id: eventId, created_at: recorded }] = event.rows as [{ id: string; created_at: Date }];
    const leased = await pg.query<{ lease: Date }>(
      `insert into outbox (kind, execution_id, payload, locked_until, available_at)
       values ('signal', $1, $2, date_trunc('milliseconds', now() + interval '2 seconds'), date_trunc('milliseconds', now() + interval '2 seconds'))
       returning locked_until as lease`,
      [run.id, { event: { eventId, name: 'go', data: {}, recordedAt: recorded.toISOString() } }],
    );
    const done = await executionIn(app.api, wf.id, run.id, ['COMPLETED', 'FAILED'], 20_000);
    expect(done.status).toBe('COMPLETED');
    expect(done.steps[1]).toMatchObject({ stepId: wf.steps.go, output: { outcome: 'event', eventId } });
    // Not before the lease ran out.
    expect(Date.parse(done.steps[1].completedAt)).toBeGreaterThanOrEqual(leased.rows[0]!.lease.getTime());
  });

  it('sends an event to a waiting run from the process that recorded it, and leaves one queued behind another command to a dispatcher', async () => {
    const wf = await waitForGo('joined');
    const first = await track('joined', 'sent-at-once@example.com');
    const second = await track('joined', 'queued-behind@example.com');
    const sentAtOnce = await onlyExecutionIn(app.api, wf.id, first.contact, ['WAITING']);
    const queuedBehind = await onlyExecutionIn(app.api, wf.id, second.contact, ['WAITING']);

    // Counted in this process (the API and the worker here; other test files' processes share the
    // database, not the counter): the delivery went out from the request that recorded the event.
    const sent = async (by: string) => (await outboxCommandsTotal.get()).values.find((v) => v.labels.kind === 'signal' && v.labels.by === by)?.value ?? 0;
    const [bySender, byPass] = [await sent('sender'), await sent('pass')];
    await track('go', 'sent-at-once@example.com', { n: 1 });
    const done = await executionIn(app.api, wf.id, sentAtOnce.id, ['COMPLETED', 'FAILED']);
    expect(done.status).toBe('COMPLETED');
    expect((await app.api.get(`/contacts/${first.contact}`)).body.data).toEqual({ n: 1, went: '1' });
    expect([await sent('sender'), await sent('pass')]).toEqual([bySender + 1, byPass]);
    expect((await pg.query('select count(*)::int as n from outbox where execution_id = $1', [sentAtOnce.id])).rows[0].n).toBe(0);

    // A command of the other run is queued ahead, held by a dispatcher (row-locked): the event's
    // delivery is queued behind it, unleased, for a dispatcher to send after it.
    const ahead = await pg.query<{ id: string }>(`insert into outbox (kind, execution_id, payload) values ('signal', $1, $2) returning id`, [
      queuedBehind.id,
      { event: { eventId: queuedBehind.id, name: 'unrelated', data: {}, recordedAt: new Date().toISOString() } },
    ]);
    const holder = new PgClient({ connectionString: fileDatabaseUrl() });
    await holder.connect();
    try {
      await holder.query('begin');
      await holder.query('select id from outbox where id = $1 for update', [ahead.rows[0]!.id]);
      const behind = await track('go', 'queued-behind@example.com', { n: 2 });
      const queued = await pg.query<{ id: string; leased: boolean; payload: unknown }>(
        'select id, locked_until is not null as leased, payload from outbox where execution_id = $1 order by id',
        [queuedBehind.id],
      );
      // Queued by the event's own statement, carrying the event as the answer gave it (its record time to the millisecond).
      expect(queued.rows).toEqual([
        { id: ahead.rows[0]!.id, leased: false, payload: expect.anything() },
        { id: expect.any(String), leased: false, payload: { event: { eventId: behind.event, name: 'go', data: { n: 2 }, recordedAt: behind.timestamp } } },
      ]);
      expect(await sent('sender')).toBe(bySender + 1);
      await holder.query('delete from outbox where execution_id = $1', [queuedBehind.id]);
      await holder.query('commit');
    } finally {
      await holder.end();
    }
    expect((await app.api.delete(`/workflows/${wf.id}/executions/${queuedBehind.id}`)).status).toBe(200);
  });
});
