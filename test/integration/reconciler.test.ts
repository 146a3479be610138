import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWorkflow } from '../support/builders';
import { executionIn, onlyExecutionIn, runStarted } from '../support/executions';
import { startTestApp, waitFor, type TestApp } from '../support/harness';
import { sampleValue, scrape } from '../support/prometheus';

describe('closes that run no workflow code', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp({ start: { reconcileEveryMs: 1000, auditRuns: true } });
  });
  afterAll(async () => {
    await app?.close();
  });

  it('shows a run terminated from the CLI or Web UI as CANCELLED', async () => {
    const { api } = app;
    const wf = await buildWorkflow(api, {
      eventName: 'trial_started',
      steps: [{ key: 'wait', type: 'WAIT_FOR_EVENT', config: { eventName: 'converted' } }],
      edges: [['trigger', 'wait']],
    });
    await api.post('/v1/track', { event: 'trial_started', email: 'term@example.com' });
    const execution = await waitFor(async () => {
      const list = await api.get(`/workflows/${wf.id}/executions?status=WAITING`);
      return list.body.data[0];
    }, 'WAITING');
    await runStarted(app.trellis.client, execution.id);

    await app.trellis.client.workflow.getHandle(`trellis-execution-${execution.id}`).terminate('operator stopped it');

    const closed = await waitFor(
      async () => {
        const r = await api.get(`/workflows/${wf.id}/executions/${execution.id}`);
        return r.body.status === 'CANCELLED' ? r.body : undefined;
      },
      'CANCELLED after terminate',
      60_000,
    );
    expect(closed.completedAt).not.toBeNull();
    expect(closed.steps.map((s: { type: string; status: string }) => `${s.type}:${s.status}`)).toEqual(['TRIGGER:COMPLETED', 'WAIT_FOR_EVENT:CANCELLED']);
    // A second pass finds nothing more to do.
    expect((await app.trellis.reconciler!.pass()).ended).toBe(0);
  });

  describe('executions active in Postgres that Temporal does not have', () => {
    /** Makes an execution look older than the audit's grace period. */
    async function age(executionId: string): Promise<void> {
      await app.trellis.database.db.execute(sql`update executions set started_at = now() - interval '10 minutes' where id = ${executionId}`);
    }

    it('queues a lost start again, and the execution runs', async () => {
      const { api } = app;
      const wf = await buildWorkflow(api, {
        eventName: 'lost.start',
        steps: [{ key: 'wait', type: 'DELAY', config: { amount: 1, unit: 'days' } }],
        edges: [['trigger', 'wait']],
      });
      // A first enrolment takes the version's snapshot; the second one's start command is lost.
      await api.post('/v1/track', { event: 'lost.start', email: 'first@example.com' });
      await onlyExecutionIn(api, wf.id, undefined, ['WAITING']);
      const contact = (await api.post('/contacts', { email: 'lost@example.com' })).body;
      const [row] = (
        await app.trellis.database.db.execute<{ id: string }>(sql`
          with e as (
            insert into executions (project_id, workflow_id, contact_id, status, workflow_version, current_step_id, started_at)
            select ${app.project.id}, ${wf.id}, ${contact.id}, 'RUNNING', version, ${wf.triggerId}, now() - interval '10 minutes' from workflows where id = ${wf.id}
            returning id, started_at
          ), t as (
            insert into step_executions (execution_id, seq, step_id, type, name, status, started_at, completed_at)
            select id, 0, ${wf.triggerId}, 'TRIGGER', 'Trigger', 'COMPLETED', started_at, started_at from e
          )
          select id from e`)
      ).rows;

      await waitFor(
        async () =>
          (await app.trellis.reconciler!.pass()).restarted >= 1 || (await api.get(`/workflows/${wf.id}/executions/${row!.id}`)).body.status === 'WAITING',
        'the restart',
      );
      const waiting = await executionIn(api, wf.id, row!.id, ['WAITING']);
      expect(waiting.currentStepId).toBe(wf.steps.wait);
      expect((await app.trellis.client.workflow.getHandle(`trellis-execution-${row!.id}`).describe()).status.name).toBe('RUNNING');
    });

    it('fails an execution whose run Temporal no longer has, saying so, and counts it finished', async () => {
      const { api } = app;
      const wf = await buildWorkflow(api, {
        eventName: 'run.deleted',
        steps: [{ key: 'wait', type: 'DELAY', config: { amount: 1, unit: 'days' } }],
        edges: [['trigger', 'wait']],
      });
      const tracked = await api.post('/v1/track', { event: 'run.deleted', email: 'deleted@example.com' });
      const waiting = await onlyExecutionIn(api, wf.id, tracked.body.data.contact, ['WAITING']);
      await age(waiting.id);
      const failedBefore = sampleValue((await scrape(app.url)).samples, 'trellis_executions_finished_total', { status: 'FAILED' });
      await app.trellis.client.workflowService.deleteWorkflowExecution({
        namespace: app.trellis.config.temporalNamespace,
        workflowExecution: { workflowId: `trellis-execution-${waiting.id}` },
      });

      const failed = await waitFor(
        async () => {
          await app.trellis.reconciler!.pass();
          const r = await api.get(`/workflows/${wf.id}/executions/${waiting.id}`);
          return r.body.status === 'FAILED' ? r.body : undefined;
        },
        'FAILED once the run is gone',
        60_000,
      );
      expect(failed.error).toBe('the Temporal run no longer exists');
      expect(failed.steps.map((s: { type: string; status: string; error: string | null }) => [s.type, s.status, s.error])).toEqual([
        ['TRIGGER', 'COMPLETED', null],
        ['DELAY', 'FAILED', 'the Temporal run no longer exists'],
      ]);
      const failedAfter = sampleValue((await scrape(app.url)).samples, 'trellis_executions_finished_total', { status: 'FAILED' });
      expect(failedAfter - failedBefore).toBe(1);
    });
  });
});
