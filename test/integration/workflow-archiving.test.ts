import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWorkflow } from '../support/builders';
import { onlyExecutionIn, onlyFinished } from '../support/executions';
import { startTestApp, type TestApp } from '../support/harness';

describe('archiving and the derived workflow status', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(async () => {
    await app?.close();
  });

  it('goes DRAFT → ACTIVE → PAUSED → ARCHIVED, hidden from the list and not enabled until unarchived', async () => {
    const { api } = app;
    const wf = await buildWorkflow(api, { name: 'lifecycle', eventName: 'lifecycle_started', steps: [], edges: [], enabled: false });
    const status = async () => (await api.get(`/workflows/${wf.id}`)).body;
    expect(await status()).toMatchObject({ status: 'DRAFT', enabled: false, archived: false });

    expect((await api.patch(`/workflows/${wf.id}`, { enabled: true })).body).toMatchObject({ status: 'ACTIVE', enabled: true });
    expect((await api.patch(`/workflows/${wf.id}`, { enabled: false })).body).toMatchObject({ status: 'PAUSED', enabled: false });
    expect((await api.patch(`/workflows/${wf.id}`, { enabled: true })).body.status).toBe('ACTIVE');

    const archived = await api.patch(`/workflows/${wf.id}`, { archived: true });
    expect(archived.status).toBe(200);
    expect(archived.body).toMatchObject({ status: 'ARCHIVED', enabled: false, archived: true });

    const listed = await api.get('/workflows?pageSize=100');
    expect(listed.body.data.map((w: any) => w.id)).not.toContain(wf.id);
    const archivedList = await api.get('/workflows?archived=true&pageSize=100');
    expect(archivedList.body.data.map((w: any) => w.id)).toEqual([wf.id]);

    const enable = await api.patch(`/workflows/${wf.id}`, { enabled: true });
    expect(enable.status).toBe(409);
    expect(enable.body.error.code).toBe('CONFLICT');
    const both = await api.patch(`/workflows/${wf.id}`, { enabled: true, archived: true });
    expect(both.status).toBe(409);

    // An archived workflow enrols nobody (enrolment is in /v1/track's transaction).
    const tracked = await api.post('/v1/track', { event: 'lifecycle_started', email: 'archived@example.com' });
    expect(tracked.status).toBe(200);
    expect((await api.get(`/workflows/${wf.id}/executions`)).body.total).toBe(0);

    expect((await api.patch(`/workflows/${wf.id}`, { archived: false })).body).toMatchObject({ status: 'PAUSED', archived: false, enabled: false });
    expect((await api.patch(`/workflows/${wf.id}`, { archived: false, enabled: true })).body.status).toBe('ACTIVE');
    expect((await api.get('/workflows?pageSize=100')).body.data.map((w: any) => w.id)).toContain(wf.id);
  });

  it('lets in-flight executions of an archived workflow go on', async () => {
    const { api } = app;
    const wf = await buildWorkflow(api, {
      name: 'archived mid-run',
      eventName: 'order_placed',
      steps: [
        { key: 'wait', type: 'WAIT_FOR_EVENT', config: { eventName: 'order_shipped', timeout: 3600 } },
        { key: 'mark', type: 'UPDATE_CONTACT', config: { data: { shipped: true } } },
      ],
      edges: [
        ['trigger', 'wait'],
        ['wait', 'mark', 'event'],
      ],
    });
    const tracked = await api.post('/v1/track', { event: 'order_placed', email: 'inflight@example.com' });
    const contactId = tracked.body.data.contact;
    await onlyExecutionIn(api, wf.id, contactId, ['WAITING']);

    expect((await api.patch(`/workflows/${wf.id}`, { archived: true })).body.status).toBe('ARCHIVED');
    expect((await api.post('/v1/track', { event: 'order_shipped', email: 'inflight@example.com' })).status).toBe(200);
    const done = await onlyFinished(api, wf.id, contactId);
    expect(done.status).toBe('COMPLETED');
    expect(done.steps.map((s: any) => s.type)).toEqual(['TRIGGER', 'WAIT_FOR_EVENT', 'UPDATE_CONTACT']);
  });
});
