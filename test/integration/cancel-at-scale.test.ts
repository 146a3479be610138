/**
 * cancel-all at the size of a whole contact list: 30,000 active executions, most of them still
 * queued for their Temporal start, cancelled in one request.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWorkflow } from '../support/builders';
import { onlyExecutionIn } from '../support/executions';
import { startTestApp, waitFor, type TestApp } from '../support/harness';

const ACTIVE = 30_000;

describe('cancel-all at scale', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(async () => {
    await app?.close();
  });

  /** How many runs of the workflow Temporal still has running. */
  async function runningInTemporal(workflowId: string): Promise<number> {
    const { count } = await app.trellis.client.workflow.count(`TrellisWorkflowId = '${workflowId}' AND ExecutionStatus = 'Running'`);
    return count;
  }

  it(`cancels ${ACTIVE.toLocaleString('en')} active executions in one request, and none keeps running in Temporal`, async () => {
    const { api } = app;
    const wf = await buildWorkflow(api, { steps: [{ key: 'wait', type: 'DELAY', config: { amount: 30, unit: 'days' } }], edges: [['trigger', 'wait']] });
    // One real enrolment takes the version's snapshot and runs into its DELAY in Temporal.
    expect((await api.post('/v1/track', { event: 'signed_up', email: 'first@example.com' })).status).toBe(200);
    const first = await onlyExecutionIn(api, wf.id, undefined, ['WAITING']);

    // The rest arrive as a burst of enrolments would leave them: rows committed, starts queued.
    await app.trellis.database.db.execute(sql`
      with new_contacts as (
        insert into contacts (project_id, email)
        select ${app.project.id}, 'bulk-' || n || '@example.com' from generate_series(2, ${ACTIVE}) n
        returning id
      ), new_executions as (
        insert into executions (project_id, workflow_id, contact_id, status, workflow_version, current_step_id)
        select ${app.project.id}, ${wf.id}, id, 'RUNNING', 1, ${wf.triggerId} from new_contacts
        returning id
      )
      insert into outbox (kind, execution_id) select 'start', id from new_executions`);

    const res = await api.post(`/workflows/${wf.id}/executions/cancel-all`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toEqual({ cancelled: ACTIVE });

    for (const status of ['RUNNING', 'WAITING']) expect((await api.get(`/workflows/${wf.id}/executions?status=${status}`)).body.total).toBe(0);
    expect((await api.get(`/workflows/${wf.id}/executions?status=CANCELLED`)).body.total).toBe(ACTIVE);
    expect((await api.get(`/workflows/${wf.id}/executions/${first.id}`)).body.status).toBe('CANCELLED');

    // The one cancel Temporal needs leaves the outbox when its run has recorded the cancellation:
    // well before its 60 s lease would run out, though it may first wait up to the window's 10 s
    // hold behind cancels of other test files (they share the database, its outbox and so the cancel
    // window: only this workflow's commands are counted).
    await app.trellis.dispatcher.drain();
    const queued = async () =>
      (
        await app.trellis.database.db.execute<{ n: number }>(
          sql`select count(*)::int as n from outbox o join executions e on e.id = o.execution_id where e.workflow_id = ${wf.id}`,
        )
      ).rows[0]!.n;
    await waitFor(async () => (await queued()) === 0, "the outbox empty of the workflow's commands", 45_000);
    await waitFor(async () => (await runningInTemporal(wf.id)) === 0, 'no run of the workflow left running in Temporal', 60_000);
  }, 240_000);
});
