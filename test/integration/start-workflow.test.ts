import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MockActivityEnvironment } from '@temporalio/testing';
import { startWorkflowActivities } from '../../activities/start-workflow';
import type { ActivityDeps } from '../../activities/deps';
import { buildWorkflow } from '../support/builders';
import { finishedExecution, onlyFinished } from '../support/executions';
import { startTestApp, type TestApp } from '../support/harness';

describe('START_WORKFLOW', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(async () => {
    await app?.close();
  });

  it("refuses itself, an unknown workflow and another project's, naming the path", async () => {
    const { api } = app;
    const wf = await buildWorkflow(api, { name: 'starter', steps: [], edges: [], enabled: false });
    const other = await app.newProject('other');
    const foreign = (await other.api.post('/workflows', { name: 'foreign', eventName: 'x' })).body.id;
    const cases: [unknown, { path: string; message: string }][] = [
      [{ workflowId: wf.id }, { path: 'config.workflowId', message: 'a workflow cannot start itself' }],
      [{ workflowId: '3f2b8c1e-6a4d-4e8b-9c2f-1a2b3c4d5e6f' }, { path: 'config.workflowId', message: 'no such workflow in this project' }],
      [{ workflowId: foreign }, { path: 'config.workflowId', message: 'no such workflow in this project' }],
      [{}, { path: 'config.workflowId', message: 'workflowId is required' }],
      [{ workflowId: 'nope' }, { path: 'config.workflowId', message: 'workflowId must be a UUID' }],
    ];
    for (const [config, detail] of cases) {
      const r = await api.post(`/workflows/${wf.id}/steps`, { type: 'START_WORKFLOW', config });
      expect(r.status, JSON.stringify(config)).toBe(400);
      expect(r.body.error.details).toEqual([detail]);
    }
    const doc = await api.request('PUT', `/workflows/${wf.id}/graph`, {
      steps: [{ key: 'again', type: 'START_WORKFLOW', config: { workflowId: wf.id } }],
      transitions: [{ from: 'trigger', to: 'again' }],
    });
    expect(doc.status).toBe(400);
    expect(doc.body.error.details).toEqual([{ path: 'steps.0.config.workflowId', message: 'a workflow cannot start itself' }]);
  });

  it('enrols the contact with the rendered context merged over its own, or says why it skipped, and goes on', async () => {
    const { api } = app;
    const nurture = await buildWorkflow(api, {
      name: 'nurture',
      eventName: 'nurture_started',
      steps: [{ key: 'mark', type: 'UPDATE_CONTACT', config: { data: { nurturedBy: '{{source}}' } } }],
      edges: [['trigger', 'mark']],
    });
    const intake = await buildWorkflow(api, {
      name: 'intake',
      eventName: 'lead_in',
      allowReentry: true,
      steps: [
        { key: 'start', type: 'START_WORKFLOW', config: { workflowId: nurture.id, context: { source: 'intake via {{channel}}' } } },
        { key: 'after', type: 'UPDATE_CONTACT', config: { data: { intakeDone: true } } },
      ],
      edges: [
        ['trigger', 'start'],
        ['start', 'after'],
      ],
    });
    const run = async () => {
      const tracked = await api.post('/v1/track', { event: 'lead_in', email: 'lead@example.com', data: { channel: { value: 'ads', persistent: false } } });
      expect(tracked.status).toBe(200);
      const list = await api.get(`/workflows/${intake.id}/executions?contactId=${tracked.body.data.contact}`);
      const execution = await finishedExecution(api, intake.id, list.body.data[0].id);
      expect(execution.status).toBe('COMPLETED');
      expect(execution.steps.map((s: any) => s.type)).toEqual(['TRIGGER', 'START_WORKFLOW', 'UPDATE_CONTACT']);
      return { contactId: tracked.body.data.contact as string, output: execution.steps[1].output };
    };

    const first = await run();
    const started = await onlyFinished(api, nurture.id, first.contactId);
    expect(first.output).toEqual({ executionId: started.id });
    expect(started.status).toBe('COMPLETED');
    expect(started.context).toEqual({ channel: 'ads', source: 'intake via ads' });
    expect(started.steps[0].output).toMatchObject({ type: 'START_WORKFLOW', workflowId: intake.id });
    expect((await api.get(`/contacts/${first.contactId}`)).body.data).toEqual({ nurturedBy: 'intake via ads', intakeDone: true });

    // The target does not allow re-entry.
    expect((await run()).output).toEqual({ skipped: 'REENTRY_NOT_ALLOWED' });
    await api.patch(`/workflows/${nurture.id}`, { allowReentry: true, enabled: false });
    expect((await run()).output).toEqual({ skipped: 'WORKFLOW_DISABLED' });
    await api.patch(`/workflows/${nurture.id}`, { archived: true });
    expect((await run()).output).toEqual({ skipped: 'WORKFLOW_ARCHIVED' });
    expect((await api.delete(`/workflows/${nurture.id}`)).status).toBe(204);
    expect((await run()).output).toEqual({ skipped: 'WORKFLOW_NOT_FOUND' });
  });

  it("a retried attempt answers the first attempt's output and enrols nobody again", async () => {
    const { api } = app;
    const target = await buildWorkflow(api, { name: 'target', eventName: 'never_tracked', steps: [], edges: [] });
    const source = await buildWorkflow(api, {
      name: 'source',
      eventName: 'go',
      steps: [{ key: 'start', type: 'START_WORKFLOW', config: { workflowId: target.id } }],
      edges: [['trigger', 'start']],
    });
    const tracked = await api.post('/v1/track', { event: 'go', email: 'retry@example.com' });
    const done = await onlyFinished(api, source.id, tracked.body.data.contact);
    const visit = done.steps[1];
    expect(visit.output).toEqual({ executionId: expect.any(String) });

    // The same visit again, as Temporal retries it when the first attempt's completion was lost.
    const activities = startWorkflowActivities({
      database: app.trellis.database,
      renderer: { values: () => Promise.reject(new Error('a retry must not render again')) },
      onCommandsQueued: () => undefined,
    } as unknown as ActivityDeps);
    const retried = await new MockActivityEnvironment({ attempt: 2 }).run(activities.startWorkflow, {
      executionId: done.id,
      journal: { steps: [] },
      // Visit 1: the TRIGGER's record is visit 0.
      visit: { seq: 1, stepId: visit.stepId, type: 'START_WORKFLOW' as const, name: visit.name, status: 'RUNNING' as const, startedAt: visit.startedAt },
      targetWorkflowId: target.id,
      context: {},
    });
    expect(retried).toEqual({ done: true, output: visit.output });
    expect((await api.get(`/workflows/${target.id}/executions`)).body.total).toBe(1);
  });
});
