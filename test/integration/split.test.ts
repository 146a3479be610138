import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Worker } from '@temporalio/worker';
import { buildWorkflow } from '../support/builders';
import { finishedExecution } from '../support/executions';
import { startTestApp, waitFor, workflowBundle, type TestApp } from '../support/harness';

describe('SPLIT: weighted random branches', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(async () => {
    await app?.close();
  });

  it('refuses bad configs with the path of every bad field', async () => {
    const wf = await buildWorkflow(app.api, { name: 'bad split', steps: [], edges: [], enabled: false });
    const one = await app.api.post(`/workflows/${wf.id}/steps`, { type: 'SPLIT', config: { branches: [{ name: 'a', weight: 1 }] } });
    expect(one.status).toBe(400);
    expect(one.body.error.details).toEqual([{ path: 'config.branches', message: 'a SPLIT has at least 2 branches' }]);
    const bad = await app.api.post(`/workflows/${wf.id}/steps`, {
      type: 'SPLIT',
      config: {
        branches: [
          { name: 'A', weight: 0 },
          { name: 'b', weight: 1 },
          { name: 'b', weight: 2 },
        ],
      },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details).toEqual([
      { path: 'config.branches.0.name', message: 'must be a slug: lower-case letters, digits, "_" and "-", at most 50 characters' },
      { path: 'config.branches.0.weight', message: 'Too small: expected number to be >0' },
      { path: 'config.branches.2.name', message: 'duplicate branch name "b"' },
    ]);
  });

  it('labels transitions with its branch names, and keeps them when its config changes', async () => {
    const wf = await buildWorkflow(app.api, {
      name: 'labelled split',
      steps: [
        {
          key: 'split',
          type: 'SPLIT',
          config: {
            branches: [
              { name: 'control', weight: 1 },
              { name: 'variant', weight: 1 },
            ],
          },
        },
        { key: 'x', type: 'UPDATE_CONTACT', config: { data: { arm: 'variant' } } },
      ],
      edges: [
        ['trigger', 'split'],
        ['split', 'x', 'variant'],
      ],
      enabled: false,
    });
    const wrong = await app.api.post(`/workflows/${wf.id}/transitions`, { fromStepId: wf.steps.split, toStepId: wf.steps.x, branch: 'yes' });
    expect(wrong.status).toBe(400);
    expect(wrong.body.error.message).toBe('A SPLIT step\'s branch must be "control" or "variant"');
    const unbranched = await app.api.post(`/workflows/${wf.id}/transitions`, { fromStepId: wf.steps.split, toStepId: wf.steps.x });
    expect(unbranched.status).toBe(400);

    const rename = await app.api.patch(`/workflows/${wf.id}/steps/${wf.steps.split}`, {
      config: {
        branches: [
          { name: 'control', weight: 1 },
          { name: 'b', weight: 1 },
        ],
      },
    });
    expect(rename.status).toBe(400);
    expect(rename.body.error.details[0].path).toBe('config.branches');
    const reweigh = await app.api.patch(`/workflows/${wf.id}/steps/${wf.steps.split}`, {
      config: {
        branches: [
          { name: 'control', weight: 9 },
          { name: 'variant', weight: 1 },
        ],
      },
    });
    expect(reweigh.status).toBe(200);

    const splice = await app.api.delete(`/workflows/${wf.id}/steps/${wf.steps.split}?splice=true`);
    expect(splice.status).toBe(400);
  });

  it('sends 400 contacts about half each way, counts them in /stats, and replays deterministically', async () => {
    const wf = await buildWorkflow(app.api, {
      name: 'ab test',
      eventName: 'ab_entered',
      steps: [
        {
          key: 'split',
          type: 'SPLIT',
          config: {
            branches: [
              { name: 'a', weight: 1 },
              { name: 'b', weight: 1 },
            ],
          },
        },
      ],
      edges: [['trigger', 'split']],
    });

    const emails = Array.from({ length: 400 }, (_, i) => `ab${i}@example.com`);
    for (let i = 0; i < emails.length; i += 25) {
      const answers = await Promise.all(emails.slice(i, i + 25).map((email) => app.api.post('/v1/track', { event: 'ab_entered', email })));
      expect(answers.map((a) => a.status)).toEqual(Array(answers.length).fill(200));
    }

    const stats = await waitFor(
      async () => {
        const r = await app.api.get(`/workflows/${wf.id}/stats`);
        return r.body.executions.COMPLETED === 400 ? r.body : undefined;
      },
      '400 completed executions',
      120_000,
    );
    const split = stats.steps.find((s: any) => s.stepId === wf.steps.split);
    expect(split.entered).toBe(400);
    expect(split.branches.a + split.branches.b).toBe(400);
    expect(split.branches.a).toBeGreaterThanOrEqual(160);
    expect(split.branches.a).toBeLessThanOrEqual(240);

    const list = await app.api.get(`/workflows/${wf.id}/executions?limit=1`);
    const execution = await finishedExecution(app.api, wf.id, list.body.data[0].id);
    const recorded = execution.steps[1].output.branch;
    expect(['a', 'b']).toContain(recorded);

    const history = await app.trellis.client.workflow.getHandle(`trellis-execution-${execution.id}`).fetchHistory();
    await expect(Worker.runReplayHistory({ workflowBundle: workflowBundle() }, history, execution.id)).resolves.toBeUndefined();
  }, 180_000);
});
