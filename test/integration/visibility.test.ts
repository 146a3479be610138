/**
 * The Temporal Web UI's view of executions (SPEC §11): custom search attributes that find each
 * execution by workflow id, contact id, contact email and status; a memo with the workflow name and
 * contact email; current details naming the step; the closed status mirroring the API's.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SEARCH_ATTRIBUTES, temporalWorkflowId } from '../../core/execution';
import { buildWorkflow } from '../support/builders';
import { startTestApp, waitFor, type TestApp } from '../support/harness';

describe('executions in the Temporal Web UI', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(async () => {
    await app?.close();
  });

  /** Temporal workflow ids matching a visibility query (eventually consistent, so callers wait). */
  async function list(query: string): Promise<string[]> {
    const ids: string[] = [];
    for await (const w of app.trellis.client.workflow.list({ query })) ids.push(w.workflowId);
    return ids.sort();
  }

  async function waitForList(query: string, expected: string[]): Promise<void> {
    const want = [...expected].sort();
    await waitFor(async () => JSON.stringify(await list(query)) === JSON.stringify(want), `visibility of ${query} = ${want.join(',')}`);
  }

  it('finds each execution by workflow id, contact id, contact email and status, and carries a memo', async () => {
    const { api } = app;
    const wf = await buildWorkflow(api, {
      name: 'Onboarding — visibility',
      manual: true,
      steps: [{ key: 'wait', type: 'WAIT_FOR_EVENT', config: { eventName: 'vis_go' } }],
      edges: [['trigger', 'wait']],
    });
    const other = await buildWorkflow(api, {
      name: 'Other — visibility',
      manual: true,
      steps: [{ key: 'wait', type: 'WAIT_FOR_EVENT', config: { eventName: 'vis_never' } }],
      edges: [['trigger', 'wait']],
    });
    const start = async (workflowId: string, email: string) => {
      const r = await api.post(`/workflows/${workflowId}/executions`, { email });
      expect(r.status, JSON.stringify(r.body)).toBe(201);
      return r.body as { id: string; contactId: string };
    };
    const ann = await start(wf.id, 'Ann.Vis@Example.com');
    const bob = await start(wf.id, 'bob.vis@example.com');
    const annElsewhere = await start(other.id, 'ann.vis@example.com');
    expect(annElsewhere.contactId).toBe(ann.contactId);
    const [annId, bobId, annElsewhereId] = [ann, bob, annElsewhere].map((e) => temporalWorkflowId(e.id));
    for (const [w, e] of [
      [wf.id, ann],
      [wf.id, bob],
      [other.id, annElsewhere],
    ] as const) {
      await waitFor(async () => (await api.get(`/workflows/${w}/executions/${e.id}`)).body.status === 'WAITING', 'WAITING');
    }

    const A = SEARCH_ATTRIBUTES;
    await waitForList(`${A.workflowId}='${wf.id}'`, [annId, bobId]);
    await waitForList(`${A.workflowId}='${other.id}'`, [annElsewhereId]);
    await waitForList(`${A.contactId}='${ann.contactId}'`, [annId, annElsewhereId]);
    await waitForList(`${A.contactEmail}='ann.vis@example.com'`, [annId, annElsewhereId]);
    await waitForList(`${A.contactEmail}='bob.vis@example.com'`, [bobId]);
    await waitForList(`${A.workflowId}='${wf.id}' AND ${A.status}='WAITING'`, [annId, bobId]);
    await waitForList(`${A.projectId}='${app.project.id}' AND ${A.status}='WAITING'`, [annId, annElsewhereId, bobId]);

    const handle = app.trellis.client.workflow.getHandle(annId);
    const described = await handle.describe();
    expect(described.memo).toEqual({ workflowName: 'Onboarding — visibility', contactEmail: 'ann.vis@example.com' });
    expect(described.searchAttributes[A.workflowId]).toEqual([wf.id]);
    expect(described.searchAttributes[A.contactId]).toEqual([ann.contactId]);
    expect(described.searchAttributes[A.contactEmail]).toEqual(['ann.vis@example.com']);
    expect(described.searchAttributes[A.status]).toEqual(['WAITING']);
    expect((await app.trellis.client.workflow.getHandle(annElsewhereId).describe()).memo).toEqual({
      workflowName: 'Other — visibility',
      contactEmail: 'ann.vis@example.com',
    });

    // Current details name the step (served by a query to the worker).
    const metadata = await handle.query<{ currentDetails?: string }>('__temporal_workflow_metadata');
    expect(metadata.currentDetails).toBe('**wait** (WAIT_FOR_EVENT) — step 1');
    // The interpreter's stack is not kept (temporal/stack-traces.ts): the stack-trace query shows no frames.
    const trace = await handle.query<string>('__stack_trace');
    expect(trace.split('\n').filter((line) => line.trim().startsWith('at '))).toEqual([]);

    // Release Ann: the status attribute follows, and Temporal's own status agrees with the API.
    expect((await api.post('/v1/track', { event: 'vis_go', email: 'ann.vis@example.com' })).status).toBe(200);
    await waitFor(async () => (await api.get(`/workflows/${wf.id}/executions/${ann.id}`)).body.status === 'COMPLETED', 'COMPLETED');
    await waitForList(`${A.workflowId}='${wf.id}' AND ${A.status}='COMPLETED'`, [annId]);
    await waitForList(`${A.workflowId}='${wf.id}' AND ${A.status}='WAITING'`, [bobId]);
    await waitForList(`${A.workflowId}='${wf.id}' AND ExecutionStatus='Completed'`, [annId]);
    await waitForList(`${A.workflowId}='${wf.id}' AND ExecutionStatus='Running'`, [bobId]);
    expect((await handle.describe()).status.name).toBe('COMPLETED');
  });
});
