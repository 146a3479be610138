import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { count, eq } from 'drizzle-orm';
import nodemailer from 'nodemailer';
import { emailLinks } from '../../email-links/tokens';
import { segmentComputationWorkflowId, segmentRefreshScheduleId } from '../../core/segment';
import { segmentMembers, workflows } from '../../db/schema';
import { buildWorkflow } from '../support/builders';
import { onlyFinished } from '../support/executions';
import { startTestApp, waitFor, type Api, type TestApp } from '../support/harness';
import { PUBLIC_URL, pathOf } from '../support/mail';

describe('segments: routes, entry/exit events, background computation, time-relative refresh', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({
      env: { INBOUND_SMTP_PORT: '0', INBOUND_DOMAIN: 'inbound.trellis.test' },
      // No DNS: every SPF/DKIM/DMARC lookup finds nothing.
      start: { inboundResolver: async (name) => Promise.reject(Object.assign(new Error(`ENOTFOUND ${name}`), { code: 'ENOTFOUND' })) },
    });
  });
  afterAll(async () => {
    await app?.close();
  });

  async function createSegment(api: Api, body: Record<string, unknown>): Promise<any> {
    const r = await api.post('/segments', body);
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    return r.body;
  }

  /** The segment once its background computation has finished. */
  const computed = (api: Api, id: string): Promise<any> =>
    waitFor(async () => {
      const r = await api.get(`/segments/${id}`);
      return r.body.computing === false ? r.body : undefined;
    }, `segment ${id} computed`);

  const memberEmails = async (api: Api, id: string): Promise<string[]> =>
    (await api.get(`/segments/${id}/contacts?pageSize=100`)).body.data.map((c: { email: string }) => c.email).sort();

  const eventsNamed = async (api: Api, name: string, contactId?: string): Promise<any[]> =>
    (await api.get(`/events?name=${name}${contactId ? `&contactId=${contactId}` : ''}`)).body.data;

  const storedMembers = async (segmentId: string): Promise<number> => {
    const [row] = await app.trellis.database.db.select({ n: count() }).from(segmentMembers).where(eq(segmentMembers.segmentId, segmentId));
    return row!.n;
  };

  it('creates, lists, reads, renames and deletes segments, with slugs from names and 409 on a taken slug', async () => {
    const { api } = app;
    const filter = { field: 'data.plan', operator: 'equals', value: 'pro' };
    const created = await createSegment(api, { name: 'Pro Customers (EU)!', filter });
    expect(created).toEqual({
      id: expect.any(String),
      name: 'Pro Customers (EU)!',
      slug: 'pro-customers-eu',
      filter,
      trackMembership: false,
      memberCount: 0,
      computing: true,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    const again = await api.post('/segments', { name: 'pro customers eu', filter });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('CONFLICT');
    expect(again.body.error.message).toContain('pro-customers-eu');
    const explicit = await createSegment(api, { name: 'Other', slug: 'other_1', filter, trackMembership: true });
    expect(explicit).toMatchObject({ slug: 'other_1', trackMembership: true });

    const list = await api.get('/segments?pageSize=1');
    expect(list.status).toBe(200);
    expect(list.body).toMatchObject({ total: 2, page: 1, pageSize: 1 });
    expect(list.body.data.map((s: { id: string }) => s.id)).toEqual([explicit.id]);

    const renamed = await api.patch(`/segments/${created.id}`, { name: 'Pro', trackMembership: true });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({ name: 'Pro', slug: 'pro-customers-eu', trackMembership: true });
    const taken = await api.patch(`/segments/${created.id}`, { slug: 'other_1' });
    expect(taken.status).toBe(409);
    expect((await api.patch(`/segments/${created.id}`, { slug: 'pro' })).body.slug).toBe('pro');

    // Another project's segment answers as an unknown one.
    const other = await app.newProject('other');
    expect((await other.api.get(`/segments/${created.id}`)).status).toBe(404);
    expect((await other.api.delete(`/segments/${created.id}`)).status).toBe(404);
    expect((await other.api.get('/segments')).body.total).toBe(0);
    // Free slugs are per project.
    await createSegment(other.api, { name: 'Other', slug: 'other_1', filter });

    expect((await api.delete(`/segments/${explicit.id}`)).status).toBe(204);
    expect((await api.get(`/segments/${explicit.id}`)).status).toBe(404);
    expect((await api.get(`/segments/${explicit.id}/contacts`)).status).toBe(404);
    expect((await api.delete(`/segments/${explicit.id}`)).status).toBe(404);
  });

  it('refuses bad input with 400 and the path of each bad field', async () => {
    const { api } = app;
    const details = (r: { body: any }) => r.body.error.details.map((d: { path: string }) => d.path).sort();

    const empty = await api.post('/segments', {});
    expect(empty.status).toBe(400);
    expect(details(empty)).toEqual(['filter', 'name']);

    const bad = await api.post('/segments', {
      name: ' ',
      slug: 'Bad Slug',
      filter: { field: 'data.x', operator: 'within', value: 2 },
      trackMembership: 'yes',
      extra: 1,
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('VALIDATION_ERROR');
    expect(details(bad)).toEqual(['extra', 'filter.unit', 'name', 'slug', 'trackMembership']);

    const eventField = await api.post('/segments', {
      name: 'from events',
      filter: {
        logic: 'OR',
        groups: [
          {
            filters: [
              { field: 'data.plan', operator: 'exists' },
              { field: 'event.amount', operator: 'greaterThan', value: 5 },
            ],
          },
          { filters: [], conditions: { logic: 'AND', groups: [{ filters: [{ field: 'event.source', operator: 'equals', value: 'web' }] }] } },
        ],
      },
    });
    expect(eventField.status).toBe(400);
    expect(eventField.body.error.details).toEqual([
      { path: 'filter.groups.0.filters.1.field', message: 'segments cannot use event.* fields (there is no event)' },
      { path: 'filter.groups.1.conditions.groups.0.filters.0.field', message: 'segments cannot use event.* fields (there is no event)' },
    ]);
    const badOperator = await api.post('/segments', { name: 'x', filter: { field: 'data.plan', operator: 'like', value: 'p' } });
    expect(details(badOperator)).toEqual(['filter.operator']);
    const badField = await api.post('/segments', { name: 'x', filter: { field: 'plan', operator: 'exists' } });
    expect(details(badField)).toEqual(['filter.field']);

    const segment = await createSegment(api, { name: 'valid', filter: { field: 'data.plan', operator: 'exists' } });
    const patch = await api.patch(`/segments/${segment.id}`, { filter: { field: 'event.plan', operator: 'exists' }, slug: '-x' });
    expect(patch.status).toBe(400);
    expect(details(patch)).toEqual(['slug']);
    const patchEvent = await api.patch(`/segments/${segment.id}`, { filter: { field: 'event.plan', operator: 'exists' } });
    expect(details(patchEvent)).toEqual(['filter.field']);
    expect(details(await api.get('/segments?pageSize=101'))).toEqual(['query.pageSize']);
    expect(details(await api.get(`/segments/${segment.id}/contacts?page=0`))).toEqual(['query.page']);
    for (const [method, path] of [
      ['POST', '/segments'],
      ['PATCH', `/segments/${segment.id}`],
    ] as const) {
      for (const raw of ['[]', '"text"', '42', 'null', '{"name":']) {
        const r = await api.request(method, path, undefined, { raw });
        expect(r.status, `${method} ${path} ${raw}`).toBe(400);
        expect(r.body.error.code).toBe('VALIDATION_ERROR');
      }
    }
    expect((await api.get('/segments/not-a-uuid')).status).toBe(404);
    expect((await app.as(app.project.publicKey).get('/segments')).status).toBe(403);
    expect((await app.as(null).post('/segments', {})).status).toBe(401);
    // Nothing was changed by the refused patches.
    expect((await api.get(`/segments/${segment.id}`)).body).toMatchObject({ slug: 'valid', filter: { field: 'data.plan', operator: 'exists' } });
    await api.delete(`/segments/${segment.id}`);
  });

  it('refuses to delete a segment that a SCHEDULE trigger enrols', async () => {
    const { api } = app;
    const segment = await createSegment(api, { name: 'audience', filter: { field: 'contact.subscribed', operator: 'equals', value: true } });
    const wf = await buildWorkflow(api, { name: 'monthly digest', eventName: 'digest', steps: [], edges: [], enabled: false });
    // SCHEDULE triggers are set through PATCH /workflows by another part of the product; the row is
    // written directly here so that this check stands on its own.
    await app.trellis.database.db
      .update(workflows)
      .set({ triggerType: 'SCHEDULE', triggerConfig: { cron: '0 9 1 * *', segmentId: segment.id }, triggerEvent: null })
      .where(eq(workflows.id, wf.id));
    const refused = await api.delete(`/segments/${segment.id}`);
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({ code: 'CONFLICT', details: { workflows: ['monthly digest'] } });
    expect((await api.get(`/segments/${segment.id}`)).status).toBe(200);

    await app.trellis.database.db.update(workflows).set({ triggerType: 'MANUAL', triggerConfig: {} }).where(eq(workflows.id, wf.id));
    expect((await api.delete(`/segments/${segment.id}`)).status).toBe(204);
  });

  it('records segment entry and exit as a contact changes, starting the EVENT workflow that waits on the entry', async () => {
    const { api } = app;
    const vip = await createSegment(api, { name: 'VIP', slug: 'vip', trackMembership: true, filter: { field: 'data.plan', operator: 'equals', value: 'pro' } });
    const welcomed = await createSegment(api, { name: 'Welcomed', filter: { field: 'data.welcomedTo', operator: 'exists' } });
    await computed(api, vip.id);
    await computed(api, welcomed.id);
    const wf = await buildWorkflow(api, {
      eventName: 'segment.vip.entry',
      steps: [{ key: 'mark', type: 'UPDATE_CONTACT', config: { data: { welcomedTo: '{{event.segmentName}}', segment: '{{event.segmentId}}' } } }],
      edges: [['trigger', 'mark']],
    });

    const upgraded = await api.post('/v1/track', { event: 'upgraded', email: 'vera@example.com', data: { plan: 'pro' } });
    expect(upgraded.status).toBe(200);
    const contactId = upgraded.body.data.contact;
    const [entry] = await eventsNamed(api, 'segment.vip.entry', contactId);
    expect(entry.data).toEqual({ segmentId: vip.id, segmentName: 'VIP' });
    const done = await onlyFinished(api, wf.id, contactId);
    expect(done.status).toBe('COMPLETED');
    expect(done.context).toEqual({ segmentId: vip.id, segmentName: 'VIP' });
    // The UPDATE_CONTACT step's change placed the contact in another segment.
    expect((await api.get(`/contacts/${contactId}`)).body.data).toEqual({ plan: 'pro', welcomedTo: 'VIP', segment: vip.id });
    expect(await memberEmails(api, welcomed.id)).toEqual(['vera@example.com']);
    expect(await memberEmails(api, vip.id)).toEqual(['vera@example.com']);

    // A change that keeps matching records nothing; a change out records the exit.
    await api.patch(`/contacts/${contactId}`, { data: { seats: 5 } });
    expect((await api.post('/v1/track', { event: 'downgraded', email: 'vera@example.com', data: { plan: 'free' } })).status).toBe(200);
    const [exit] = await eventsNamed(api, 'segment.vip.exit', contactId);
    expect(exit.data).toEqual({ segmentId: vip.id, segmentName: 'VIP' });
    expect(await eventsNamed(api, 'segment.vip.entry', contactId)).toHaveLength(1);
    expect(await memberEmails(api, vip.id)).toEqual([]);
    expect((await api.get(`/segments/${vip.id}`)).body.memberCount).toBe(0);
  });

  it('follows subscription changes made through the email links', async () => {
    const { api } = app;
    const subscribers = await createSegment(api, {
      name: 'Subscribers',
      trackMembership: true,
      filter: { field: 'contact.subscribed', operator: 'equals', value: true },
    });
    const contact = (await api.post('/contacts', { email: 'sam@example.com' })).body;
    await computed(api, subscribers.id);
    expect(await memberEmails(api, subscribers.id)).toContain('sam@example.com');

    const links = await emailLinks(app.trellis.database, PUBLIC_URL);
    expect((await app.as(null).request('GET', pathOf(links.unsubscribeUrl(contact.id)))).status).toBe(200);
    expect(await memberEmails(api, subscribers.id)).not.toContain('sam@example.com');
    expect(await eventsNamed(api, 'segment.subscribers.exit', contact.id)).toHaveLength(1);
    expect((await app.as(null).request('GET', pathOf(links.subscribeUrl(contact.id)))).status).toBe(200);
    expect(await memberEmails(api, subscribers.id)).toContain('sam@example.com');
    expect(await eventsNamed(api, 'segment.subscribers.entry', contact.id)).toHaveLength(1);
    await api.delete(`/segments/${subscribers.id}`);
  });

  it('places the sender of inbound mail, created as a contact, in the segments it matches', async () => {
    const { api } = app;
    const partners = await createSegment(api, {
      name: 'Partners',
      trackMembership: true,
      filter: { field: 'contact.email', operator: 'contains', value: '@PARTNER.test' },
    });
    await computed(api, partners.id);
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: app.trellis.inbound!.port, secure: false, ignoreTLS: true });
    await transport.sendMail({ from: 'Lee@Partner.test', to: `${app.project.id}@inbound.trellis.test`, subject: 'hello', text: 'hi' });
    expect(await memberEmails(api, partners.id)).toEqual(['lee@partner.test']);
    const [contact] = (await api.get('/contacts?search=lee@partner.test')).body.data;
    expect((await eventsNamed(api, 'segment.partners.entry', contact.id)).map((e) => e.data)).toEqual([{ segmentId: partners.id, segmentName: 'Partners' }]);
    await api.delete(`/segments/${partners.id}`);
  });

  it('recomputes members in the background after a filter change, announcing entries and exits; deletions clean up', async () => {
    const { api } = app;
    const young = (await api.post('/contacts', { email: 'young@example.com', data: { age: 20 } })).body;
    const older = (await api.post('/contacts', { email: 'older@example.com', data: { age: 40 } })).body;
    const adults = await createSegment(api, { name: 'Adults', trackMembership: true, filter: { field: 'data.age', operator: 'greaterThan', value: 30 } });
    expect((await computed(api, adults.id)).memberCount).toBe(1);
    expect(await memberEmails(api, adults.id)).toEqual(['older@example.com']);
    // The first computation sets a baseline: nobody "entered".
    expect(await eventsNamed(api, 'segment.adults.entry')).toEqual([]);

    const widened = await api.patch(`/segments/${adults.id}`, { filter: { field: 'data.age', operator: 'greaterThan', value: 10 } });
    expect(widened.status).toBe(200);
    expect(widened.body.computing).toBe(true);
    await computed(api, adults.id);
    expect(await memberEmails(api, adults.id)).toEqual(['older@example.com', 'young@example.com']);
    expect((await eventsNamed(api, 'segment.adults.entry')).map((e) => e.contactId)).toEqual([young.id]);

    await api.patch(`/segments/${adults.id}`, { filter: { field: 'data.age', operator: 'greaterThan', value: 30 } });
    await computed(api, adults.id);
    expect(await memberEmails(api, adults.id)).toEqual(['older@example.com']);
    expect((await eventsNamed(api, 'segment.adults.exit')).map((e) => e.contactId)).toEqual([young.id]);

    expect((await api.delete(`/contacts/${older.id}`)).status).toBe(204);
    expect((await api.get(`/segments/${adults.id}`)).body.memberCount).toBe(0);
    await api.patch(`/contacts/${young.id}`, { data: { age: 31 } });
    expect(await storedMembers(adults.id)).toBe(1);
    expect((await api.delete(`/segments/${adults.id}`)).status).toBe(204);
    expect(await storedMembers(adults.id)).toBe(0);
  });

  it('pages through contacts, continuing as new, in a run findable by project in Temporal', async () => {
    const project = await app.newProject('paging');
    for (let i = 0; i < 7; i++) await project.api.post('/contacts', { email: `p${i}@example.com`, data: { n: i } });
    const odd = await createSegment(project.api, { name: 'Most', filter: { field: 'data.n', operator: 'greaterThan', value: 0 } });
    await computed(project.api, odd.id);
    expect(await memberEmails(project.api, odd.id)).toHaveLength(6);

    const client = app.trellis.client;
    // The run closes just after its last page marks the segment computed.
    const first = client.workflow.getHandle(segmentComputationWorkflowId(odd.id, 1));
    await first.result();
    const described = await first.describe();
    expect(described.type).toBe('segmentComputation');
    expect(described.status.name).toBe('COMPLETED');
    expect(described.searchAttributes.TrellisProjectId).toEqual([project.id]);
    await waitFor(
      async () => (await client.workflow.count(`TrellisProjectId='${project.id}' AND WorkflowType='segmentComputation'`)).count === 1,
      'the computation in visibility',
    );

    // Lose the stored members, then recompute the same generation in pages of 2, 2 pages per run.
    await app.trellis.database.db.delete(segmentMembers).where(eq(segmentMembers.segmentId, odd.id));
    const handle = await client.workflow.start('segmentComputation', {
      taskQueue: app.trellis.config.taskQueue,
      workflowId: `${segmentComputationWorkflowId(odd.id, 1)}-small-pages`,
      args: [{ segmentId: odd.id, projectId: project.id, generation: 1, pageSize: 2, pagesPerRun: 2 }],
    });
    expect(await handle.result()).toBe('done');
    // 7 contacts in pages of 2 → 4 pages → one continue-as-new.
    const last = await handle.describe();
    expect(last.runId).not.toBe(handle.firstExecutionRunId);
    expect(await memberEmails(project.api, odd.id)).toEqual(['p1', 'p2', 'p3', 'p4', 'p5', 'p6'].map((p) => `${p}@example.com`));
    expect((await project.api.get(`/segments/${odd.id}`)).body).toMatchObject({ memberCount: 6, computing: false });

    // A stale generation stops without touching anything.
    await app.trellis.database.db.delete(segmentMembers).where(eq(segmentMembers.segmentId, odd.id));
    const stale = await client.workflow.execute('segmentComputation', {
      taskQueue: app.trellis.config.taskQueue,
      workflowId: `${segmentComputationWorkflowId(odd.id, 0)}-stale`,
      args: [{ segmentId: odd.id, projectId: project.id, generation: 0 }],
    });
    expect(stale).toBe('stale');
    expect(await storedMembers(odd.id)).toBe(0);
  });

  it('re-evaluates time-relative filters on the refresh schedule', async () => {
    const { api } = app;
    // Seen a few seconds from now: not yet "within the last minute" until that moment has passed.
    const seenAt = Date.now() + 3000;
    const recent = await createSegment(api, {
      name: 'Recent',
      trackMembership: true,
      filter: { field: 'data.seenAt', operator: 'within', value: 1, unit: 'minutes' },
    });
    const contact = (await api.post('/contacts', { email: 'recent@example.com', data: { seenAt: new Date(seenAt).toISOString() } })).body;
    await computed(api, recent.id);
    expect(await memberEmails(api, recent.id)).toEqual([]);
    await waitFor(async () => Date.now() > seenAt + 200, 'the moment seen');

    const schedule = app.trellis.client.schedule.getHandle(segmentRefreshScheduleId(app.trellis.config.taskQueue));
    const description = await schedule.describe();
    expect(description.action).toMatchObject({ type: 'startWorkflow', workflowType: 'segmentRefresh', taskQueue: app.trellis.config.taskQueue });
    await schedule.trigger();
    await waitFor(async () => (await memberEmails(api, recent.id)).length === 1, 'the refresh to place the contact');
    expect(await memberEmails(api, recent.id)).toEqual(['recent@example.com']);
    const [entry] = await eventsNamed(api, 'segment.recent.entry', contact.id);
    expect(entry.data).toEqual({ segmentId: recent.id, segmentName: 'Recent' });
  });
});
