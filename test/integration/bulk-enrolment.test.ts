import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enrolmentWorkflowId } from '../../core/enrolment';
import type { ScratchDatabase } from '../../scripts/local-servers';
import { createSegment, insertContacts, privateDatabase } from '../support/audience';
import { buildWorkflow } from '../support/builders';
import { startTestApp, waitFor, type Api, type TestApp } from '../support/harness';

const BATCH = 50;

describe('bulk enrolment (POST /workflows/:id/executions/bulk)', () => {
  let database: ScratchDatabase;
  let app: TestApp;

  beforeAll(async () => {
    // Its own database: the queued starts of one test never reach another file's dispatcher. Batches
    // of 50 (500 in production) let small audiences cross batch boundaries.
    database = await privateDatabase();
    app = await startTestApp({ env: { DATABASE_URL: database.url }, start: { enrolmentBatchSize: BATCH } });
  });
  afterAll(async () => {
    await app?.close();
    await database?.drop();
  });

  /** An enabled MANUAL workflow TRIGGER → UPDATE_CONTACT. */
  function markingWorkflow(api: Api, options: { allowReentry?: boolean; enabled?: boolean } = {}) {
    return buildWorkflow(api, {
      manual: true,
      allowReentry: options.allowReentry,
      enabled: options.enabled,
      steps: [{ key: 'mark', type: 'UPDATE_CONTACT', config: { data: { bulk: '{{event.batch}}' } } }],
      edges: [['trigger', 'mark']],
    });
  }

  function finishedEnrolment(api: Api, workflowId: string, enrolmentId: string): Promise<any> {
    return waitFor(
      async () => {
        const r = await api.get(`/workflows/${workflowId}/enrolments/${enrolmentId}`);
        return r.body.status !== 'RUNNING' ? r.body : undefined;
      },
      `enrolment ${enrolmentId} finished`,
      60_000,
    );
  }

  it('enrols listed contacts, subscribed or not, and counts unknown, foreign and refused ids as skipped', async () => {
    const project = await app.newProject('list');
    const { api } = project;
    const [a, b] = await insertContacts(database.url, project.id, 2);
    const [unsubscribed] = await insertContacts(database.url, project.id, 1, { subscribed: false });
    const other = await app.newProject('someone else');
    const [foreign] = await insertContacts(database.url, other.id, 1);
    const wf = await markingWorkflow(api);
    // b already went through this workflow, which allows no re-entry.
    expect((await api.post(`/workflows/${wf.id}/executions`, { contactId: b })).status).toBe(201);

    const started = await api.post(`/workflows/${wf.id}/executions/bulk`, {
      contactIds: [a, b, unsubscribed, foreign, randomUUID(), a],
      context: { batch: 'spring' },
    });
    expect(started.status, JSON.stringify(started.body)).toBe(202);
    expect(Object.keys(started.body)).toEqual(['enrolmentId']);

    const enrolment = await finishedEnrolment(api, wf.id, started.body.enrolmentId);
    expect(enrolment).toMatchObject({ id: started.body.enrolmentId, status: 'COMPLETED', enrolled: 2, skipped: 3 });
    expect(Date.parse(enrolment.finishedAt)).toBeGreaterThanOrEqual(Date.parse(enrolment.startedAt));

    const executions = await waitFor(async () => {
      const r = await api.get(`/workflows/${wf.id}/executions?status=COMPLETED`);
      return r.body.total === 3 ? r.body.data : undefined;
    }, 'three completed executions');
    const bulk = executions.filter((e: any) => e.context.batch === 'spring');
    expect(bulk.map((e: any) => e.contactId).sort()).toEqual([a, unsubscribed].sort());
    expect((await api.get(`/contacts/${unsubscribed}`)).body.data).toEqual({ bulk: 'spring' });
    const history = await api.get(`/workflows/${wf.id}/executions/${bulk[0].id}`);
    expect(history.body.steps[0]).toMatchObject({ type: 'TRIGGER', status: 'COMPLETED', output: { type: 'BULK', enrolmentId: started.body.enrolmentId } });

    // Its Temporal run is findable by the workflow's id.
    const run = await app.trellis.client.workflow.getHandle(enrolmentWorkflowId(started.body.enrolmentId)).describe();
    expect(run.type).toBe('audienceEnrolment');
    expect(run.status.name).toBe('COMPLETED');
    // On the enrolments' own task queue, beside the executions'.
    expect(run.taskQueue).toBe(`${app.trellis.config.taskQueue}-enrolment`);
    expect(run.searchAttributes.TrellisWorkflowId).toEqual([wf.id]);
    expect(run.searchAttributes.TrellisProjectId).toEqual([project.id]);
  });

  it('enrols every member of a segment across batch boundaries, and nobody else', async () => {
    const project = await app.newProject('segment');
    const { api } = project;
    const members = await insertContacts(database.url, project.id, 110);
    const unsubscribedMembers = await insertContacts(database.url, project.id, 10, { subscribed: false });
    await insertContacts(database.url, project.id, 5);
    const segmentId = await createSegment(api, database.url, [...members, ...unsubscribedMembers]);
    const wf = await markingWorkflow(api);

    const started = await api.post(`/workflows/${wf.id}/executions/bulk`, { segmentId, context: { batch: 'all' } });
    expect(started.status, JSON.stringify(started.body)).toBe(202);

    // Progress moves per batch while it runs; each batch commits its enrolments with its counters.
    const seen = new Set<number>();
    const enrolment = await waitFor(
      async () => {
        const r = await api.get(`/workflows/${wf.id}/enrolments/${started.body.enrolmentId}`);
        seen.add(r.body.enrolled);
        return r.body.status !== 'RUNNING' ? r.body : undefined;
      },
      'the enrolment finished',
      60_000,
    );
    expect(enrolment).toMatchObject({ status: 'COMPLETED', enrolled: 120, skipped: 0 });
    expect([...seen].every((n) => [0, 50, 100, 120].includes(n))).toBe(true);

    const { rows } = await app.trellis.database.pool.query(
      `select count(*)::int as n, count(distinct contact_id)::int as contacts from executions where workflow_id = $1`,
      [wf.id],
    );
    expect(rows[0]).toEqual({ n: 120, contacts: 120 });
    const { rows: outsiders } = await app.trellis.database.pool.query(
      `select count(*)::int as n from executions e where e.workflow_id = $1 and not exists (select 1 from segment_members m where m.segment_id = $2 and m.contact_id = e.contact_id)`,
      [wf.id, segmentId],
    );
    expect(outsiders[0].n).toBe(0);
  });

  it('stops between batches when its workflow is disabled, and says so', async () => {
    const project = await app.newProject('stop');
    const { api } = project;
    const ids = (await insertContacts(database.url, project.id, 120)).sort();
    const wf = await markingWorkflow(api);
    // A transaction holding a contact of the second batch keeps that batch waiting on its lock.
    const holder = await app.trellis.database.pool.connect();
    try {
      await holder.query('begin');
      await holder.query('select 1 from contacts where id = $1 for update', [ids[BATCH + 10]]);
      const started = await api.post(`/workflows/${wf.id}/executions/bulk`, { contactIds: ids });
      expect(started.status).toBe(202);
      const path = `/workflows/${wf.id}/enrolments/${started.body.enrolmentId}`;
      await waitFor(async () => (await api.get(path)).body.enrolled === BATCH, 'the first batch', 30_000);
      expect((await api.patch(`/workflows/${wf.id}`, { enabled: false })).status).toBe(200);
      await holder.query('commit');

      const enrolment = await finishedEnrolment(api, wf.id, started.body.enrolmentId);
      expect(enrolment).toMatchObject({ status: 'STOPPED', stopReason: 'workflow disabled', enrolled: BATCH, skipped: 0 });
      expect(enrolment.finishedAt).not.toBeNull();
      expect((await api.get(`/workflows/${wf.id}/executions`)).body.total).toBe(BATCH);
      // The executions it did start run to their end.
      await waitFor(async () => (await api.get(`/workflows/${wf.id}/executions?status=COMPLETED`)).body.total === BATCH, 'the first batch completed', 30_000);
    } finally {
      holder.release();
    }
  });

  it('refuses bad bodies, disabled workflows and unknown segments', async () => {
    const { api } = app;
    const wf = await markingWorkflow(api);
    const disabled = await markingWorkflow(api, { enabled: false });
    const cases: [unknown, string][] = [
      [{}, ''],
      [{ segmentId: randomUUID(), contactIds: [randomUUID()] }, ''],
      [{ contactIds: [] }, 'contactIds'],
      [{ contactIds: ['nope'] }, 'contactIds.0'],
      [{ contactIds: Array.from({ length: 1001 }, () => randomUUID()) }, 'contactIds'],
      [{ segmentId: 'x' }, 'segmentId'],
      [{ contactIds: [randomUUID()], context: [1] }, 'context'],
      [{ contactIds: [randomUUID()], extra: 1 }, 'extra'],
    ];
    for (const [body, path] of cases) {
      const r = await api.post(`/workflows/${wf.id}/executions/bulk`, body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error.code).toBe('VALIDATION_ERROR');
      expect(r.body.error.details.map((d: any) => d.path)).toEqual([path]);
    }
    const unknownSegment = await api.post(`/workflows/${wf.id}/executions/bulk`, { segmentId: randomUUID() });
    expect(unknownSegment.status).toBe(400);
    expect(unknownSegment.body.error.details).toEqual([{ path: 'segmentId', message: 'no such segment in this project' }]);

    const off = await api.post(`/workflows/${disabled.id}/executions/bulk`, { contactIds: [randomUUID()] });
    expect(off.status).toBe(400);
    expect(off.body.error.code).toBe('WORKFLOW_DISABLED');

    expect((await api.post(`/workflows/${randomUUID()}/executions/bulk`, { contactIds: [randomUUID()] })).status).toBe(404);
    expect((await api.get(`/workflows/${wf.id}/enrolments/${randomUUID()}`)).status).toBe(404);
    expect((await api.get(`/workflows/${wf.id}/enrolments/nope`)).status).toBe(404);
  });
});
