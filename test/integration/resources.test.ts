import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWorkflow, createTemplate } from '../support/builders';
import { ADMIN_KEY, startTestApp, waitFor, type Api, type TestApp } from '../support/harness';

type Step = { id: string; type: string; name: string; config: unknown; position: unknown };
type Transition = { id: string; fromStepId: string; toStepId: string; branch: string | null };

/** A graph as step names and edges between names, for comparing shapes regardless of ids. */
function shape(graph: { steps: Step[]; transitions: Transition[] }) {
  const name = (id: string) => graph.steps.find((s) => s.id === id)!.name;
  return {
    steps: graph.steps.map((s) => ({ type: s.type, name: s.name, config: s.config, position: s.position })).sort((a, b) => a.name.localeCompare(b.name)),
    transitions: graph.transitions.map((t) => `${name(t.fromStepId)} -${t.branch ?? ''}-> ${name(t.toStepId)}`).sort(),
  };
}

describe('resources', () => {
  let app: TestApp;
  let api: Api;

  beforeAll(async () => {
    app = await startTestApp();
    api = app.api;
  });
  afterAll(async () => {
    await app?.close();
  });

  describe('contacts', () => {
    it('creates, reads, updates and deletes a contact with a normalised email', async () => {
      const created = await api.post('/contacts', { email: '  Ada.Lovelace@Example.COM ', data: { plan: 'pro' } });
      expect(created.status).toBe(201);
      expect(Object.keys(created.body).sort()).toEqual(['createdAt', 'data', 'email', 'id', 'subscribed', 'tags', 'updatedAt']);
      expect(created.body).toMatchObject({ email: 'ada.lovelace@example.com', subscribed: true, data: { plan: 'pro' } });
      expect(created.body.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(new Date(created.body.createdAt).toISOString()).toBe(created.body.createdAt);

      const read = await api.get(`/contacts/${created.body.id}`);
      expect(read.status).toBe(200);
      expect(read.body).toEqual(created.body);

      const dup = await api.post('/contacts', { email: 'ADA.LOVELACE@example.com' });
      expect(dup.status).toBe(409);
      expect(dup.body.error.code).toBe('CONFLICT');

      const other = await api.post('/contacts', { email: 'grace@example.com', subscribed: false });
      expect(other.status).toBe(201);
      expect(other.body.subscribed).toBe(false);
      expect(other.body.data).toEqual({});
      const clash = await api.patch(`/contacts/${other.body.id}`, { email: ' Ada.Lovelace@example.com' });
      expect(clash.status).toBe(409);
      expect(clash.body.error.code).toBe('CONFLICT');
      const renamed = await api.patch(`/contacts/${other.body.id}`, { email: ' Grace.Hopper@Example.com ' });
      expect(renamed.status).toBe(200);
      expect(renamed.body.email).toBe('grace.hopper@example.com');

      const deleted = await api.delete(`/contacts/${created.body.id}`);
      expect(deleted.status).toBe(204);
      expect(deleted.body).toBeUndefined();
      expect((await api.get(`/contacts/${created.body.id}`)).status).toBe(404);
      expect((await api.delete(`/contacts/${created.body.id}`)).status).toBe(404);
      // The email is free again.
      expect((await api.post('/contacts', { email: 'ada.lovelace@example.com' })).status).toBe(201);
    });

    it('searches by case-insensitive substring and pages results', async () => {
      const tag = `pg${randomUUID().slice(0, 8)}`;
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        const r = await api.post('/contacts', { email: `person${i}.${tag}@example.com` });
        expect(r.status).toBe(201);
        ids.push(r.body.id);
      }
      await api.post('/contacts', { email: `under_score.${tag}@example.com` });
      await api.post('/contacts', { email: `underXscore.${tag}@example.com` });

      const all = await api.get(`/contacts?search=${tag.toUpperCase()}`);
      expect(all.status).toBe(200);
      expect(Object.keys(all.body).sort()).toEqual(['data', 'page', 'pageSize', 'total']);
      expect(all.body).toMatchObject({ total: 7, page: 1, pageSize: 20 });
      expect(all.body.data).toHaveLength(7);

      // Paging through all seven: pages of 3 cover each once.
      const pages: string[][] = [];
      for (let page = 1; page <= 4; page++) {
        const r = await api.get(`/contacts?search=.${tag}&page=${page}&pageSize=3`);
        expect(r.body).toMatchObject({ total: 7, page, pageSize: 3 });
        pages.push(r.body.data.map((c: { id: string }) => c.id));
      }
      expect(pages.map((p) => p.length)).toEqual([3, 3, 1, 0]);
      expect(new Set(pages.flat()).size).toBe(7);
      for (const id of ids) expect(pages.flat()).toContain(id);

      const maxed = await api.get(`/contacts?search=${tag}&pageSize=100`);
      expect(maxed.body).toMatchObject({ total: 7, pageSize: 100 });

      // LIKE wildcards are plain characters.
      const underscore = await api.get(`/contacts?search=${encodeURIComponent(`under_score.${tag}`)}`);
      expect(underscore.body.data.map((c: { email: string }) => c.email)).toEqual([`under_score.${tag}@example.com`]);
      const percent = await api.get(`/contacts?search=${encodeURIComponent(`%.${tag}`)}`);
      expect(percent.body.total).toBe(0);
      const middle = await api.get(`/contacts?search=${encodeURIComponent(`N3.${tag.toUpperCase()}@EXAMPLE`)}`);
      expect(middle.body.data.map((c: { email: string }) => c.email)).toEqual([`person3.${tag}@example.com`]);
    });

    it('merges data shallowly and removes keys set to null', async () => {
      const c = await api.post('/contacts', { email: `merge-${randomUUID()}@example.com`, data: { a: 1, nested: { x: 1, y: 2 }, gone: 'soon', list: [1, 2] } });
      const patched = await api.patch(`/contacts/${c.body.id}`, { data: { nested: { x: 9 }, gone: null, b: 'two', list: [3] } });
      expect(patched.status).toBe(200);
      expect(patched.body.data).toEqual({ a: 1, nested: { x: 9 }, b: 'two', list: [3] });
      expect(patched.body.subscribed).toBe(true);
      expect(patched.body.email).toBe(c.body.email);
      const noData = await api.patch(`/contacts/${c.body.id}`, { subscribed: true });
      expect(noData.body.data).toEqual({ a: 1, nested: { x: 9 }, b: 'two', list: [3] });
      const removeMissing = await api.patch(`/contacts/${c.body.id}`, { data: { never: null } });
      expect(removeMissing.body.data).toEqual({ a: 1, nested: { x: 9 }, b: 'two', list: [3] });
      expect((await api.get(`/contacts/${c.body.id}`)).body.data).toEqual({ a: 1, nested: { x: 9 }, b: 'two', list: [3] });
      // A null at creation is not stored either.
      const created = await api.post('/contacts', { email: `merge-null-${randomUUID()}@example.com`, data: { keep: true, drop: null } });
      expect(created.body.data).toEqual({ keep: true });
    });

    it('records contact.unsubscribed / contact.subscribed on a change of subscribed, not at creation', async () => {
      const c = await api.post('/contacts', { email: `subs-${randomUUID()}@example.com` });
      const off = await api.post('/contacts', { email: `subs-off-${randomUUID()}@example.com`, subscribed: false });
      const none = await api.get(`/events?contactId=${c.body.id}`);
      expect(none.body.total).toBe(0);
      expect((await api.get(`/events?contactId=${off.body.id}`)).body.total).toBe(0);

      expect((await api.patch(`/contacts/${c.body.id}`, { subscribed: false })).body.subscribed).toBe(false);
      expect((await api.patch(`/contacts/${c.body.id}`, { subscribed: false })).status).toBe(200);
      expect((await api.patch(`/contacts/${c.body.id}`, { data: { x: 1 } })).status).toBe(200);
      expect((await api.patch(`/contacts/${c.body.id}`, { subscribed: true })).body.subscribed).toBe(true);

      const events = await api.get(`/events?contactId=${c.body.id}`);
      expect(events.body.total).toBe(2);
      expect(events.body.data.map((e: { name: string }) => e.name)).toEqual(['contact.subscribed', 'contact.unsubscribed']);
      for (const e of events.body.data) {
        expect(Object.keys(e).sort()).toEqual(['contactId', 'createdAt', 'data', 'depth', 'id', 'name']);
        expect(e.contactId).toBe(c.body.id);
      }
      const byName = await api.get(`/events?name=contact.unsubscribed&contactId=${c.body.id}`);
      expect(byName.body.total).toBe(1);

      // Deleting the contact erases its events.
      expect((await api.delete(`/contacts/${c.body.id}`)).status).toBe(204);
      expect((await api.get(`/events?contactId=${c.body.id}`)).body.total).toBe(0);
    });
  });

  describe('templates', () => {
    it('creates, reads, lists, updates and deletes a template', async () => {
      const full = await api.post('/templates', {
        name: 'Receipt',
        subject: 'Your receipt, {{firstName}}',
        body: '<p>Total {{ event.total }}</p>',
        text: 'Total {{ event.total }}',
        from: 'billing@example.com',
        fromName: 'Billing',
        replyTo: 'help@example.com',
        type: 'TRANSACTIONAL',
      });
      expect(full.status).toBe(201);
      expect(Object.keys(full.body).sort()).toEqual(['body', 'createdAt', 'from', 'fromName', 'id', 'name', 'replyTo', 'subject', 'text', 'type', 'updatedAt']);
      expect(full.body).toMatchObject({
        name: 'Receipt',
        subject: 'Your receipt, {{firstName}}',
        text: 'Total {{ event.total }}',
        from: 'billing@example.com',
        fromName: 'Billing',
        replyTo: 'help@example.com',
        type: 'TRANSACTIONAL',
      });

      const minimal = await api.post('/templates', { name: 'News', subject: 'News', body: '<p>news</p>' });
      expect(minimal.status).toBe(201);
      expect(minimal.body.type).toBe('MARKETING');
      expect((await api.post('/templates', { name: 'Headless', subject: 'h', body: 'h', type: 'HEADLESS' })).body.type).toBe('HEADLESS');

      expect((await api.get(`/templates/${full.body.id}`)).body).toEqual(full.body);
      const list = await api.get('/templates?pageSize=100');
      expect(list.status).toBe(200);
      expect(list.body.data.map((t: { id: string }) => t.id)).toEqual(expect.arrayContaining([full.body.id, minimal.body.id]));

      const patched = await api.patch(`/templates/${full.body.id}`, { subject: 'Receipt #{{ event.number }}', fromName: null });
      expect(patched.status).toBe(200);
      expect(patched.body).toMatchObject({ ...full.body, subject: 'Receipt #{{ event.number }}', fromName: null, updatedAt: patched.body.updatedAt });
      expect((await api.get(`/templates/${full.body.id}`)).body.subject).toBe('Receipt #{{ event.number }}');

      expect((await api.delete(`/templates/${full.body.id}`)).status).toBe(204);
      expect((await api.get(`/templates/${full.body.id}`)).status).toBe(404);
    });

    it('refuses a template that does not parse, naming line and column', async () => {
      const bad = await api.post('/templates', { name: 'Broken', subject: 'fine', body: '<p>Hello</p>\n<p>{{ name </p>' });
      expect(bad.status).toBe(400);
      expect(bad.body.error.code).toBe('VALIDATION_ERROR');
      expect(bad.body.error.message).toMatch(/line 2, column \d+/);
      expect(bad.body.error.details).toEqual([{ path: 'body', message: expect.stringMatching(/line 2, column \d+/) }]);
      const badSubject = await api.post('/templates', { name: 'Broken', subject: 'Hi {{ }}', body: 'ok' });
      expect(badSubject.status).toBe(400);
      expect(badSubject.body.error.details.map((d: { path: string }) => d.path)).toEqual(['subject']);
      expect(badSubject.body.error.message).toMatch(/line 1, column \d+/);
      expect((await api.get('/templates?search=Broken')).body.total).toBe(0);

      const good = await createTemplate(api, { name: 'Fixable', subject: 'ok', body: 'ok' });
      const badPatch = await api.patch(`/templates/${good}`, { text: 'one\ntwo\nthree {{ x ' });
      expect(badPatch.status).toBe(400);
      expect(badPatch.body.error.message).toMatch(/line 3, column \d+/);
      expect((await api.get(`/templates/${good}`)).body.text).toBeNull();
    });

    it('refuses to delete a template that a current graph uses (409), until the step goes', async () => {
      const used = await createTemplate(api, { name: 'Used', subject: 'used', body: 'used' });
      const wf = await buildWorkflow(api, {
        name: 'Uses template',
        eventName: 'tpl.used',
        enabled: false,
        steps: [{ key: 'send', type: 'SEND_EMAIL', config: { templateId: used } }],
        edges: [['trigger', 'send']],
      });
      const refused = await api.delete(`/templates/${used}`);
      expect(refused.status).toBe(409);
      expect(refused.body.error.code).toBe('CONFLICT');
      expect(refused.body.error.message).toContain('Uses template');
      expect((await api.get(`/templates/${used}`)).status).toBe(200);

      expect((await api.delete(`/workflows/${wf.id}/steps/${wf.steps.send}`)).status).toBe(204);
      expect((await api.delete(`/templates/${used}`)).status).toBe(204);
    });
  });

  describe('workflows', () => {
    it('creates an EVENT workflow, disabled, at version 1, with one TRIGGER step', async () => {
      const created = await api.post('/workflows', { name: '  Onboarding ', eventName: 'user.signup', description: 'Welcome new users' });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({
        name: 'Onboarding',
        description: 'Welcome new users',
        triggerType: 'EVENT',
        triggerConfig: { eventName: 'user.signup' },
        enabled: false,
        allowReentry: false,
        version: 1,
        transitions: [],
      });
      expect(created.body.steps).toHaveLength(1);
      expect(created.body.steps[0]).toMatchObject({ workflowId: created.body.id, type: 'TRIGGER', config: {} });

      const read = await api.get(`/workflows/${created.body.id}`);
      expect(read.body).toEqual(created.body);
      const reentrant = await api.post('/workflows', { name: 'Again', eventName: 'again', allowReentry: true });
      expect(reentrant.body.allowReentry).toBe(true);
      expect(reentrant.body.description).toBeNull();

      const patched = await api.patch(`/workflows/${created.body.id}`, { name: 'Onboarding v2', description: null, allowReentry: true });
      expect(patched.status).toBe(200);
      expect(patched.body).toMatchObject({ name: 'Onboarding v2', description: null, allowReentry: true, version: 1 });
      const manual = await api.patch(`/workflows/${created.body.id}`, { triggerType: 'MANUAL', triggerConfig: {} });
      expect(manual.body).toMatchObject({ triggerType: 'MANUAL', triggerConfig: {}, version: 2 });
    });

    it('lists workflows filtered by search and enabled', async () => {
      const tag = `wf${randomUUID().slice(0, 8)}`;
      const a = await api.post('/workflows', { name: `Alpha ${tag}`, eventName: 'a' });
      const b = await api.post('/workflows', { name: `Beta ${tag}`, eventName: 'b' });
      await api.post('/workflows', { name: 'Unrelated', eventName: 'c' });
      expect((await api.patch(`/workflows/${b.body.id}`, { enabled: true })).body.enabled).toBe(true);

      const both = await api.get(`/workflows?search=${tag.toUpperCase()}`);
      expect(both.body).toMatchObject({ total: 2, page: 1, pageSize: 20 });
      expect(both.body.data.map((w: { id: string }) => w.id).sort()).toEqual([a.body.id, b.body.id].sort());
      expect(both.body.data[0].steps).toBeUndefined();
      const enabled = await api.get(`/workflows?search=${tag}&enabled=true`);
      expect(enabled.body.data.map((w: { id: string }) => w.id)).toEqual([b.body.id]);
      const disabled = await api.get(`/workflows?search=${tag}&enabled=false`);
      expect(disabled.body.data.map((w: { id: string }) => w.id)).toEqual([a.body.id]);
      const alpha = await api.get(`/workflows?search=alpha%20${tag}`);
      expect(alpha.body.data.map((w: { id: string }) => w.id)).toEqual([a.body.id]);
      const paged = await api.get(`/workflows?search=${tag}&pageSize=1&page=2`);
      expect(paged.body).toMatchObject({ total: 2, page: 2, pageSize: 1 });
      expect(paged.body.data).toHaveLength(1);
    });

    it('duplicates a workflow as a disabled "(copy)" with the same graph and new ids', async () => {
      const template = await createTemplate(api, { name: 'dup', subject: 'dup', body: 'dup' });
      const wf = await buildWorkflow(api, {
        name: 'Original',
        eventName: 'dup.evt',
        allowReentry: true,
        steps: [
          { key: 'cond', type: 'CONDITION', config: { field: 'data.plan', operator: 'equals', value: 'pro' } },
          { key: 'send', type: 'SEND_EMAIL', config: { templateId: template } },
          { key: 'wait', type: 'DELAY', config: { amount: 2, unit: 'days' } },
          { key: 'exit', type: 'EXIT', config: { reason: 'free plan' } },
        ],
        edges: [
          ['trigger', 'cond'],
          ['cond', 'send', 'yes'],
          ['cond', 'exit', 'no'],
          ['send', 'wait'],
        ],
      });
      await api.patch(`/workflows/${wf.id}/steps/${wf.steps.send}`, { position: { x: 10, y: 20 } });
      const original = await api.get(`/workflows/${wf.id}`);
      expect(original.body.enabled).toBe(true);

      const copy = await api.post(`/workflows/${wf.id}/duplicate`);
      expect(copy.status).toBe(201);
      expect(copy.body).toMatchObject({
        name: 'Original (copy)',
        enabled: false,
        allowReentry: true,
        triggerType: 'EVENT',
        triggerConfig: { eventName: 'dup.evt' },
      });
      expect(copy.body.id).not.toBe(wf.id);
      expect(shape(copy.body)).toEqual(shape(original.body));
      const originalIds = new Set([...original.body.steps, ...original.body.transitions].map((x: { id: string }) => x.id));
      for (const s of copy.body.steps) {
        expect(originalIds.has(s.id)).toBe(false);
        expect(s.workflowId).toBe(copy.body.id);
      }
      const copyStepIds = new Set(copy.body.steps.map((s: Step) => s.id));
      for (const t of copy.body.transitions) {
        expect(originalIds.has(t.id)).toBe(false);
        expect(t.workflowId).toBe(copy.body.id);
        expect(copyStepIds.has(t.fromStepId)).toBe(true);
        expect(copyStepIds.has(t.toStepId)).toBe(true);
      }
      // The two are independent.
      expect((await api.delete(`/workflows/${copy.body.id}/steps/${copy.body.steps.find((s: Step) => s.name === 'wait').id}`)).status).toBe(204);
      expect(shape((await api.get(`/workflows/${wf.id}`)).body)).toEqual(shape(original.body));
      expect((await api.get(`/workflows/${wf.id}`)).body.enabled).toBe(true);
    });

    it('deletes a workflow (204), refused with 409 while it has active executions, enabled or not', async () => {
      const wf = await buildWorkflow(api, {
        eventName: 'del.evt',
        steps: [{ key: 'wait', type: 'WAIT_FOR_EVENT', config: { eventName: 'del.never' } }],
        edges: [['trigger', 'wait']],
      });
      const started = await api.post(`/workflows/${wf.id}/executions`, { email: `del-${randomUUID()}@example.com` });
      expect(started.status).toBe(201);
      await waitFor(async () => (await api.get(`/workflows/${wf.id}/executions/${started.body.id}`)).body.status === 'WAITING', 'WAITING');

      const refused = await api.delete(`/workflows/${wf.id}`);
      expect(refused.status).toBe(409);
      expect(refused.body.error.code).toBe('CONFLICT');
      expect(refused.body.error.details).toMatchObject({ activeExecutions: 1 });
      expect((await api.patch(`/workflows/${wf.id}`, { enabled: false })).status).toBe(200);
      expect((await api.delete(`/workflows/${wf.id}`)).status).toBe(409);
      expect((await api.get(`/workflows/${wf.id}`)).status).toBe(200);

      const cancelled = await api.post(`/workflows/${wf.id}/executions/cancel-all`);
      expect(cancelled.body).toEqual({ cancelled: 1 });
      const deleted = await api.delete(`/workflows/${wf.id}`);
      expect(deleted.status).toBe(204);
      expect((await api.get(`/workflows/${wf.id}`)).status).toBe(404);
      expect((await api.get(`/workflows/${wf.id}/executions/${started.body.id}`)).status).toBe(404);
      expect((await api.get(`/contacts/${started.body.contactId}/executions`)).body.total).toBe(0);
      // The contact stays.
      expect((await api.get(`/contacts/${started.body.contactId}`)).status).toBe(200);
    });
  });

  describe('what deletes take along', () => {
    it("keeps a deleted workflow's emails (executionId null) and erases a deleted contact's", async () => {
      const template = await createTemplate(api, { name: 'kept', subject: 'Kept', body: '<p>kept</p>', type: 'TRANSACTIONAL' });
      const wf = await buildWorkflow(api, {
        eventName: 'keep.emails',
        steps: [{ key: 'mail', type: 'SEND_EMAIL', config: { templateId: template } }],
        edges: [['trigger', 'mail']],
      });
      const tracked = await api.post('/v1/track', { event: 'keep.emails', email: `keep-${randomUUID()}@example.com` });
      const contactId = tracked.body.data.contact;
      const execution = await waitFor(async () => {
        const r = await api.get(`/workflows/${wf.id}/executions?status=COMPLETED`);
        return r.body.data[0];
      }, 'COMPLETED');
      const before = (await api.get(`/emails?contactId=${contactId}`)).body.data;
      expect(before.map((e: { executionId: string; status: string }) => [e.executionId, e.status])).toEqual([[execution.id, 'CAPTURED']]);

      expect((await api.delete(`/workflows/${wf.id}`)).status).toBe(204);
      const after = (await api.get(`/emails?contactId=${contactId}`)).body.data;
      expect(after.map((e: { id: string; executionId: string | null }) => [e.id, e.executionId])).toEqual([[before[0].id, null]]);

      expect((await api.delete(`/contacts/${contactId}`)).status).toBe(204);
      expect((await api.get(`/emails?contactId=${contactId}`)).body.total).toBe(0);
      expect((await api.get(`/events?contactId=${contactId}`)).body.total).toBe(0);
    });
  });

  describe('deleting steps', () => {
    it('deletes a step with its transitions', async () => {
      const wf = await buildWorkflow(api, {
        eventName: 'plain.delete',
        enabled: false,
        steps: [
          { key: 'a', type: 'DELAY', config: { amount: 1, unit: 'hours' } },
          { key: 'b', type: 'DELAY', config: { amount: 2, unit: 'hours' } },
          { key: 'c', type: 'EXIT' },
        ],
        edges: [
          ['trigger', 'a'],
          ['a', 'b'],
          ['b', 'c'],
        ],
      });
      const before = await api.get(`/workflows/${wf.id}`);
      expect((await api.delete(`/workflows/${wf.id}/steps/${wf.steps.b}`)).status).toBe(204);
      const after = await api.get(`/workflows/${wf.id}`);
      expect(shape(after.body)).toEqual({ steps: shape(before.body).steps.filter((s) => s.name !== 'b'), transitions: ['Trigger --> a'] });
      expect(after.body.version).toBe(before.body.version + 1);
      expect((await api.delete(`/workflows/${wf.id}/steps/${wf.steps.b}`)).status).toBe(404);
    });

    it('splices a step out: incoming transitions enter its successor and keep their branch', async () => {
      const wf = await buildWorkflow(api, {
        eventName: 'splice.evt',
        enabled: false,
        steps: [
          { key: 'a', type: 'DELAY', config: { amount: 1, unit: 'hours' } },
          { key: 'b', type: 'DELAY', config: { amount: 2, unit: 'hours' } },
          { key: 'cond', type: 'CONDITION', config: { field: 'data.vip', operator: 'equals', value: true } },
          { key: 'x', type: 'UPDATE_CONTACT', config: { data: { vip: 'yes' } } },
          { key: 'y', type: 'UPDATE_CONTACT', config: { data: { vip: 'no' } } },
          { key: 'z', type: 'EXIT' },
          { key: 'wait', type: 'WAIT_FOR_EVENT', config: { eventName: 'w' } },
          { key: 'after', type: 'EXIT' },
        ],
        edges: [
          ['trigger', 'a'],
          ['a', 'b'],
          ['b', 'cond'],
          ['cond', 'x', 'yes'],
          ['cond', 'y', 'no'],
          ['x', 'z'],
          ['y', 'wait'],
          ['wait', 'after', 'event'],
        ],
      });
      const v0 = (await api.get(`/workflows/${wf.id}`)).body.version;
      const splice = (key: string) => api.delete(`/workflows/${wf.id}/steps/${wf.steps[key]}?splice=true`);
      const edges = async () => shape((await api.get(`/workflows/${wf.id}`)).body).transitions;

      expect((await splice('b')).status).toBe(204);
      expect(await edges()).toEqual(['Trigger --> a', 'a --> cond', 'cond -no-> y', 'cond -yes-> x', 'wait -event-> after', 'x --> z', 'y --> wait'].sort());
      expect((await splice('x')).status).toBe(204);
      expect(await edges()).toEqual(['Trigger --> a', 'a --> cond', 'cond -no-> y', 'cond -yes-> z', 'wait -event-> after', 'y --> wait'].sort());

      for (const key of ['trigger', 'cond', 'wait']) {
        const refused = await splice(key);
        expect(refused.status, key).toBe(400);
        expect(refused.body.error.code).toBe('VALIDATION_ERROR');
      }
      expect(await edges()).toEqual(['Trigger --> a', 'a --> cond', 'cond -no-> y', 'cond -yes-> z', 'wait -event-> after', 'y --> wait'].sort());
      expect((await api.get(`/workflows/${wf.id}`)).body.version).toBe(v0 + 2);

      // A step without successor goes with its incoming transitions.
      expect((await splice('z')).status).toBe(204);
      expect(await edges()).toEqual(['Trigger --> a', 'a --> cond', 'cond -no-> y', 'wait -event-> after', 'y --> wait'].sort());
      // Once the WAIT_FOR_EVENT has no branch left it can be spliced.
      const graph = (await api.get(`/workflows/${wf.id}`)).body;
      const branchEdge = graph.transitions.find((t: Transition) => t.branch === 'event');
      expect((await api.delete(`/workflows/${wf.id}/transitions/${branchEdge.id}`)).status).toBe(204);
      expect((await api.post(`/workflows/${wf.id}/transitions`, { fromStepId: wf.steps.wait, toStepId: wf.steps.after })).status).toBe(201);
      expect((await splice('wait')).status).toBe(204);
      expect(await edges()).toEqual(['Trigger --> a', 'a --> cond', 'cond -no-> y', 'y --> after'].sort());
    });
  });

  describe('admin projects', () => {
    it('creates a project with its keys and inbound address, and lists projects without secret keys', async () => {
      const admin = app.as(ADMIN_KEY);
      const created = await admin.post('/admin/projects', { name: '  Acme ' });
      expect(created.status).toBe(201);
      expect(Object.keys(created.body).sort()).toEqual(['id', 'inboundAddress', 'name', 'publicKey', 'secretKey']);
      expect(created.body.name).toBe('Acme');
      expect(created.body.publicKey).toMatch(/^pk_/);
      expect(created.body.secretKey).toMatch(/^sk_/);
      expect(created.body.inboundAddress).toBe(`${created.body.id}@localhost`);

      const list = await admin.get('/admin/projects');
      expect(list.status).toBe(200);
      const mine = list.body.data.find((p: { id: string }) => p.id === created.body.id);
      expect(mine).toMatchObject({ id: created.body.id, name: 'Acme', publicKey: created.body.publicKey, inboundAddress: `${created.body.id}@localhost` });
      for (const p of list.body.data) {
        expect(p.secretKey).toBeUndefined();
        expect(p.secretKeyHash).toBeUndefined();
      }
      expect(JSON.stringify(list.body)).not.toContain(created.body.secretKey);
      expect(list.body.data.map((p: { id: string }) => p.id)).toContain(app.project.id);

      // The keys work, and the new project starts empty.
      const theirs = app.as(created.body.secretKey);
      expect((await theirs.get('/contacts')).body).toEqual({ data: [], total: 0, page: 1, pageSize: 20 });
      expect((await app.as(created.body.publicKey).post('/v1/track', { event: 'hello', email: 'acme@example.com' })).status).toBe(200);
      expect((await theirs.get('/contacts')).body.total).toBe(1);
    });
  });
});
