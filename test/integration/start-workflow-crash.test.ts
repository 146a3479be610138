/**
 * START_WORKFLOW across a worker crash (SPEC §14.2): the activity's transaction commits the
 * enrolment, but the worker is killed before Temporal learns that the activity completed. The worker
 * reaches Temporal through a proxy, and the test holds the target workflow's row so that the
 * activity waits inside its transaction; the proxy is cut, the row released, the enrolment commits
 * (Postgres is reached directly) and the worker is killed with SIGKILL. The retry on a new worker
 * finds the step completed and answers its output: the target workflow gets one execution.
 */
import { Client as PgClient } from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { temporalWorkflowId } from '../../core/execution';
import { buildWorkflow } from '../support/builders';
import { finishedExecution, onlyExecution, onlyFinished } from '../support/executions';
import { startTestApp, waitFor, type TestApp } from '../support/harness';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy';
import { startWorkerProcess, type WorkerProcess } from '../support/worker-process';
import { fileDatabaseUrl } from '../support/file-databases';

describe('a worker killed after START_WORKFLOW enrolled the contact', () => {
  let app: TestApp;
  let proxy: TcpProxy;
  let holder: PgClient;
  let observer: PgClient;
  const workers: WorkerProcess[] = [];

  beforeAll(async () => {
    proxy = await startTcpProxy(inject('temporalAddress'));
    // The API (and its dispatcher) in this process; the worker, the only one on the queue, a child.
    app = await startTestApp({ env: { ROLE: 'api' } });
    holder = new PgClient({ connectionString: fileDatabaseUrl() });
    observer = new PgClient({ connectionString: fileDatabaseUrl() });
    await holder.connect();
    await observer.connect();
  });
  afterAll(async () => {
    for (const w of workers) await w.kill();
    await holder?.query('rollback').catch(() => undefined);
    await holder?.end();
    await observer?.end();
    await app?.close();
    await proxy?.close();
  });

  it('enrols the contact once when the activity is retried', async () => {
    const { api } = app;
    const onboarding = await buildWorkflow(api, {
      name: 'onboarding',
      eventName: 'onboarding_started',
      steps: [{ key: 'mark', type: 'UPDATE_CONTACT', config: { data: { onboardedFrom: '{{source}}' } } }],
      edges: [['trigger', 'mark']],
    });
    const signup = await buildWorkflow(api, {
      name: 'signup',
      eventName: 'signed_up',
      steps: [
        { key: 'start', type: 'START_WORKFLOW', config: { workflowId: onboarding.id, context: { source: 'signup' } } },
        { key: 'after', type: 'UPDATE_CONTACT', config: { data: { signupDone: true } } },
      ],
      edges: [
        ['trigger', 'start'],
        ['start', 'after'],
      ],
    });

    const env = { TEMPORAL_ADDRESS: proxy.address };
    const first = await startWorkerProcess(app.trellis.config.taskQueue, env);
    workers.push(first);

    // The activity share-locks the target workflow's row inside its transaction: holding the row
    // stops it there, after it claimed the execution and before it enrolled anyone.
    await holder.query('begin');
    await holder.query('select id from workflows where id = $1 for update', [onboarding.id]);
    const [{ pid }] = (await holder.query('select pg_backend_pid() as pid')).rows;

    const tracked = await api.post('/v1/track', { event: 'signed_up', email: 'crash@example.com' });
    expect(tracked.status).toBe(200);
    const contactId: string = tracked.body.data.contact;
    const source = await onlyExecution(api, signup.id, contactId);
    await waitFor(async () => {
      const r = await observer.query('select count(*)::int as n from pg_stat_activity where $1 = any(pg_blocking_pids(pid))', [pid]);
      return r.rows[0].n > 0;
    }, 'the START_WORKFLOW activity to wait for the target workflow');

    // The worker loses Temporal (not Postgres); released, the activity commits the enrolment.
    proxy.down();
    await holder.query('rollback');
    const enrolled = await waitFor(async () => {
      const r = await observer.query(`select s.output from step_executions s where s.execution_id = $1 and s.step_id = $2 and s.status = 'COMPLETED'`, [
        source.id,
        signup.steps.start,
      ]);
      return r.rows[0]?.output as { executionId: string } | undefined;
    }, 'the enrolment to commit');
    const target = await onlyExecution(api, onboarding.id, contactId);
    expect(enrolled).toEqual({ executionId: target.id });
    // Temporal never heard of the completion: the activity is still open there.
    const handle = app.trellis.client.workflow.getHandle(temporalWorkflowId(source.id));
    expect(((await handle.describe()).raw.pendingActivities ?? []).map((a) => a.activityType?.name)).toEqual(['startWorkflow']);

    await first.kill();
    proxy.up();
    workers.push(await startWorkerProcess(app.trellis.config.taskQueue, env));

    // The attempt times out (10 s start-to-close); the retry answers the committed output.
    const done = await finishedExecution(api, signup.id, source.id, 60_000);
    expect(done.status).toBe('COMPLETED');
    expect(done.steps.map((s: { type: string; status: string }) => `${s.type}:${s.status}`)).toEqual([
      'TRIGGER:COMPLETED',
      'START_WORKFLOW:COMPLETED',
      'UPDATE_CONTACT:COMPLETED',
    ]);
    expect(done.steps[1].output).toEqual({ executionId: target.id });
    // Temporal took the result of the second attempt (its history records the attempt that completed;
    // UPDATE_CONTACT, a local activity, has no activity task).
    const history = await handle.fetchHistory();
    const started = (history.events ?? []).flatMap((e) => (e.activityTaskStartedEventAttributes ? [e.activityTaskStartedEventAttributes.attempt] : []));
    expect(started).toEqual([2]);

    // Exactly one execution of the target for the contact, and it ran.
    const onboarded = await onlyFinished(api, onboarding.id, contactId, 60_000);
    expect(onboarded.id).toBe(target.id);
    expect(onboarded.status).toBe('COMPLETED');
    const all = await api.client.listExecutions({ params: { id: onboarding.id }, query: { contactId } });
    expect(all.total).toBe(1);
    const rows = await observer.query('select count(*)::int as n from executions where workflow_id = $1 and contact_id = $2', [onboarding.id, contactId]);
    expect(rows.rows[0].n).toBe(1);
    expect((await api.get(`/contacts/${contactId}`)).body.data).toMatchObject({ onboardedFrom: 'signup', signupDone: true });
    expect(await app.trellis.client.workflow.getHandle(temporalWorkflowId(target.id)).result()).toEqual({ status: 'COMPLETED' });
  }, 300_000);
});
