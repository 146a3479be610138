import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWorkflow } from '../support/builders';
import { executionIn } from '../support/executions';
import { chromiumPath } from '../support/browser';
import { startTestApp, waitFor, type Api, type TestApp } from '../support/harness';

const CHROMIUM = chromiumPath();

describe('re-entry rules and /v1/track', () => {
  let app: TestApp;
  let api: Api;

  beforeAll(async () => {
    app = await startTestApp();
    api = app.api;
  });
  afterAll(async () => {
    await app?.close();
  });

  async function executions(workflowId: string, query = '') {
    return (await api.get(`/workflows/${workflowId}/executions?pageSize=100${query}`)).body as {
      total: number;
      data: { id: string; status: string; contactId: string; context: unknown }[];
    };
  }
  async function eventCount(name: string, contactId?: string) {
    return (await api.get(`/events?name=${encodeURIComponent(name)}${contactId ? `&contactId=${contactId}` : ''}`)).body.total as number;
  }

  describe('from browsers', () => {
    const origin = { origin: 'https://shop.example' };

    it("answers a page's preflight and lets it read the answer, errors included; the secret routes answer no preflight", async () => {
      const preflight = await api.request('OPTIONS', '/v1/track', undefined, {
        key: null,
        headers: { ...origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
      });
      expect(preflight.status).toBe(204);
      expect(Object.fromEntries([...preflight.headers].filter(([name]) => name.startsWith('access-control-')))).toEqual({
        'access-control-allow-origin': '*',
        'access-control-allow-methods': 'POST',
        'access-control-allow-headers': 'Authorization,Content-Type,Idempotency-Key,X-Request-Id',
        'access-control-expose-headers': 'Retry-After,X-Request-Id',
        'access-control-max-age': '86400',
      });

      const tracked = await api.request(
        'POST',
        '/v1/track',
        { event: 'page_viewed', email: 'browser@example.com' },
        { key: app.project.publicKey, headers: origin },
      );
      expect(tracked.status).toBe(200);
      expect([tracked.headers.get('access-control-allow-origin'), tracked.headers.get('access-control-expose-headers')]).toEqual([
        '*',
        'Retry-After,X-Request-Id',
      ]);
      expect(await eventCount('page_viewed', tracked.body.data.contact)).toBe(1);
      const refused = await api.request('POST', '/v1/track', { event: 'page_viewed', email: 'browser@example.com' }, { key: 'pk_unknown', headers: origin });
      expect([refused.status, refused.headers.get('access-control-allow-origin')]).toEqual([401, '*']);

      const secret = await api.request('OPTIONS', '/contacts', undefined, { key: null, headers: { ...origin, 'access-control-request-method': 'GET' } });
      expect(secret.headers.get('access-control-allow-origin')).toBeNull();
      expect((await api.request('GET', '/contacts', undefined, { headers: origin })).headers.get('access-control-allow-origin')).toBeNull();
    });
    it.skipIf(!CHROMIUM)('lets a page of another origin track with the public key in Chromium, and not read a secret route', async () => {
      const site = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>shop</title>'));
      await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
      const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
      try {
        const tab = await browser.newPage();
        // localhost, not the API's 127.0.0.1, and another port: another origin.
        await tab.goto(`http://localhost:${(site.address() as AddressInfo).port}/`);
        const tracked = await tab.evaluate(
          async ({ url, key }) => {
            const r = await fetch(`${url}/v1/track`, {
              method: 'POST',
              headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
              body: JSON.stringify({ event: 'tab_opened', email: 'tab@example.com' }),
            });
            return { status: r.status, body: (await r.json()) as { data: { contact: string } }, requestId: r.headers.get('x-request-id') };
          },
          { url: app.url, key: app.project.publicKey },
        );
        expect(tracked.status).toBe(200);
        expect(tracked.requestId).toMatch(/^[0-9a-f-]{36}$/);
        expect(await eventCount('tab_opened', tracked.body.data.contact)).toBe(1);
        const secret = await tab.evaluate(
          ({ url, key }) =>
            fetch(`${url}/contacts`, { headers: { authorization: `Bearer ${key}` } }).then(
              () => 'read',
              (err: unknown) => String(err),
            ),
          { url: app.url, key: app.project.secretKey },
        );
        expect(secret).toBe('TypeError: Failed to fetch');
      } finally {
        await browser.close();
        site.close();
      }
    });
  });

  describe('concurrency', () => {
    it('50 concurrent identical tracks make one contact, 50 events and one execution per workflow', async () => {
      const waitStep = { key: 'wait', type: 'WAIT_FOR_EVENT', config: { eventName: 'burst.never' } };
      const once = await buildWorkflow(api, { eventName: 'burst', allowReentry: false, steps: [waitStep], edges: [['trigger', 'wait']] });
      const again = await buildWorkflow(api, { eventName: 'burst', allowReentry: true, steps: [waitStep], edges: [['trigger', 'wait']] });
      const email = `burst-${randomUUID()}@example.com`;

      const answers = await Promise.all(Array.from({ length: 50 }, () => api.post('/v1/track', { event: 'burst', email, data: { source: 'burst' } })));
      expect(answers.map((a) => a.status)).toEqual(Array(50).fill(200));
      const contactIds = new Set(answers.map((a) => a.body.data.contact));
      expect(contactIds.size).toBe(1);
      expect(new Set(answers.map((a) => a.body.data.event)).size).toBe(50);

      const contacts = await api.get(`/contacts?search=${email}`);
      expect(contacts.body.total).toBe(1);
      const [contactId] = [...contactIds];
      expect(contacts.body.data[0].id).toBe(contactId);
      expect(await eventCount('burst', contactId)).toBe(50);
      for (const wf of [once, again]) {
        const list = await executions(wf.id);
        expect(list.total).toBe(1);
        expect(list.data[0]!.contactId).toBe(contactId);
        await executionIn(api, wf.id, list.data[0]!.id, ['WAITING']);
      }
      await api.post(`/workflows/${once.id}/executions/cancel-all`);
      await api.post(`/workflows/${again.id}/executions/cancel-all`);
    });
  });

  describe('re-entry', () => {
    it('allowReentry false: a contact enters at most once, ever', async () => {
      const wf = await buildWorkflow(api, { eventName: 'once.evt', allowReentry: false, steps: [], edges: [] });
      const email = `once-${randomUUID()}@example.com`;
      const first = await api.post('/v1/track', { event: 'once.evt', email });
      const contactId = first.body.data.contact;
      const [execution] = (await executions(wf.id)).data;
      await executionIn(api, wf.id, execution!.id, ['COMPLETED']);

      // The event path skips silently.
      const second = await api.post('/v1/track', { event: 'once.evt', email });
      expect(second.status).toBe(200);
      expect(second.body.success).toBe(true);
      expect(await eventCount('once.evt', contactId)).toBe(2);
      expect((await executions(wf.id)).total).toBe(1);
      // The manual path answers 409.
      const manual = await api.post(`/workflows/${wf.id}/executions`, { contactId });
      expect(manual.status).toBe(409);
      expect(manual.body.error.code).toBe('REENTRY_NOT_ALLOWED');
      const byEmail = await api.post(`/workflows/${wf.id}/executions`, { email: email.toUpperCase() });
      expect(byEmail.status).toBe(409);
      expect(byEmail.body.error.code).toBe('REENTRY_NOT_ALLOWED');
      expect((await executions(wf.id)).total).toBe(1);
      // Another contact still enters.
      expect((await api.post(`/workflows/${wf.id}/executions`, { email: `once-other-${randomUUID()}@example.com` })).status).toBe(201);
    });

    it('allowReentry false: a cancelled execution blocks re-entry too', async () => {
      const wf = await buildWorkflow(api, {
        eventName: 'once.cancel',
        allowReentry: false,
        steps: [{ key: 'wait', type: 'WAIT_FOR_EVENT', config: { eventName: 'never' } }],
        edges: [['trigger', 'wait']],
      });
      const started = await api.post(`/workflows/${wf.id}/executions`, { email: `once-cancel-${randomUUID()}@example.com` });
      expect(started.status).toBe(201);
      const cancelled = await api.delete(`/workflows/${wf.id}/executions/${started.body.id}`);
      expect(cancelled.body.status).toBe('CANCELLED');
      const again = await api.post(`/workflows/${wf.id}/executions`, { contactId: started.body.contactId });
      expect(again.status).toBe(409);
      expect(again.body.error.code).toBe('REENTRY_NOT_ALLOWED');
    });

    it('allowReentry true: refused while active, admitted once the earlier execution finished', async () => {
      const wf = await buildWorkflow(api, {
        eventName: 'again.evt',
        allowReentry: true,
        steps: [{ key: 'wait', type: 'WAIT_FOR_EVENT', config: { eventName: 'again.go' } }],
        edges: [['trigger', 'wait']],
      });
      const email = `again-${randomUUID()}@example.com`;
      const first = await api.post('/v1/track', { event: 'again.evt', email });
      const contactId = first.body.data.contact;
      const [e1] = (await executions(wf.id)).data;
      await executionIn(api, wf.id, e1!.id, ['WAITING']);

      expect((await api.post('/v1/track', { event: 'again.evt', email })).status).toBe(200);
      expect((await executions(wf.id)).total).toBe(1);
      const manual = await api.post(`/workflows/${wf.id}/executions`, { contactId });
      expect(manual.status).toBe(409);
      expect(manual.body.error.code).toBe('REENTRY_NOT_ALLOWED');

      expect((await api.post('/v1/track', { event: 'again.go', email })).status).toBe(200);
      await executionIn(api, wf.id, e1!.id, ['COMPLETED']);

      expect((await api.post('/v1/track', { event: 'again.evt', email })).status).toBe(200);
      const afterSecond = await executions(wf.id);
      expect(afterSecond.total).toBe(2);
      const e2 = afterSecond.data.find((e) => e.id !== e1!.id)!;
      expect(['RUNNING', 'WAITING']).toContain(e2.status);
      expect((await api.post(`/workflows/${wf.id}/executions`, { contactId })).status).toBe(409);
      expect((await api.post('/v1/track', { event: 'again.evt', email })).status).toBe(200);
      expect((await executions(wf.id)).total).toBe(2);

      // Once that one is cancelled, the manual path admits a third.
      expect((await api.delete(`/workflows/${wf.id}/executions/${e2.id}`)).status).toBe(200);
      const third = await api.post(`/workflows/${wf.id}/executions`, { contactId, context: { via: 'manual' } });
      expect(third.status).toBe(201);
      expect(third.body).toMatchObject({ contactId, workflowId: wf.id, context: { via: 'manual' } });
      expect(['RUNNING', 'WAITING']).toContain(third.body.status);
      expect((await executions(wf.id)).total).toBe(3);
      await api.post(`/workflows/${wf.id}/executions/cancel-all`);
    });

    it('manual start: 400 WORKFLOW_DISABLED on a disabled workflow, 404 for an unknown contact, creates a contact by email', async () => {
      const wf = await buildWorkflow(api, { eventName: 'manual.evt', manual: true, enabled: false, steps: [], edges: [] });
      const contact = await api.post('/contacts', { email: `manual-${randomUUID()}@example.com` });
      const disabled = await api.post(`/workflows/${wf.id}/executions`, { contactId: contact.body.id });
      expect(disabled.status).toBe(400);
      expect(disabled.body.error.code).toBe('WORKFLOW_DISABLED');
      const newEmail = `manual-new-${randomUUID()}@example.com`;
      expect((await api.post(`/workflows/${wf.id}/executions`, { email: newEmail })).status).toBe(400);
      expect((await api.get(`/contacts?search=${newEmail}`)).body.total).toBe(0);
      expect((await executions(wf.id)).total).toBe(0);

      expect((await api.patch(`/workflows/${wf.id}`, { enabled: true })).status).toBe(200);
      const unknown = await api.post(`/workflows/${wf.id}/executions`, { contactId: randomUUID() });
      expect(unknown.status).toBe(404);
      expect(unknown.body.error.code).toBe('NOT_FOUND');

      const started = await api.post(`/workflows/${wf.id}/executions`, { contactId: contact.body.id, context: { reason: 'vip' } });
      expect(started.status).toBe(201);
      expect(started.body).toMatchObject({ workflowId: wf.id, contactId: contact.body.id, context: { reason: 'vip' }, workflowVersion: expect.any(Number) });
      const created = await api.post(`/workflows/${wf.id}/executions`, { email: ` ${newEmail.toUpperCase()} ` });
      expect(created.status).toBe(201);
      const newContact = await api.get(`/contacts/${created.body.contactId}`);
      expect(newContact.body).toMatchObject({ email: newEmail, subscribed: true });
      expect(created.body.context).toEqual({});
      expect((await executions(wf.id)).total).toBe(2);
    });
  });

  describe('Idempotency-Key', () => {
    const track = (body: unknown, key: string, as: Api = api) => as.request('POST', '/v1/track', body, { headers: { 'idempotency-key': key } });

    it('returns the first answer to a repeat and records nothing new; refuses the key with another body', async () => {
      const wf = await buildWorkflow(api, { eventName: 'idem.evt', allowReentry: true, steps: [], edges: [] });
      const email = `idem-${randomUUID()}@example.com`;
      const key = randomUUID();
      const body = { event: 'idem.evt', email, data: { n: 1 } };

      const first = await track(body, key);
      expect(first.status).toBe(200);
      const contactId = first.body.data.contact;
      await waitFor(async () => (await executions(wf.id)).data.every((e) => e.status === 'COMPLETED'), 'the run to complete');
      const repeat = await track(body, key);
      expect(repeat.status).toBe(200);
      expect(repeat.body).toEqual(first.body);
      const viaPublicKey = await track(body, key, app.as(app.project.publicKey));
      expect(viaPublicKey.body).toEqual(first.body);
      // The same body with its keys in another order is the same request.
      const reordered = await track({ data: { n: 1 }, email, event: 'idem.evt' }, key);
      expect(reordered.status).toBe(200);
      expect(reordered.body).toEqual(first.body);
      expect(await eventCount('idem.evt', contactId)).toBe(1);
      expect((await executions(wf.id)).total).toBe(1);

      const reused = await track({ ...body, data: { n: 2 } }, key);
      expect(reused.status).toBe(409);
      expect(reused.body.error.code).toBe('IDEMPOTENCY_KEY_REUSED');
      expect(await eventCount('idem.evt', contactId)).toBe(1);
      expect((await api.get(`/contacts/${contactId}`)).body.data).toEqual({ n: 1 });
      expect((await executions(wf.id)).total).toBe(1);

      // Without a key, or with another, the same body is a new event.
      expect((await api.post('/v1/track', body)).body.data.event).not.toBe(first.body.data.event);
      expect((await track(body, randomUUID())).body.data.event).not.toBe(first.body.data.event);
      expect(await eventCount('idem.evt', contactId)).toBe(3);

      // Keys are per project.
      const other = await app.newProject('idem other');
      const elsewhere = await track({ event: 'idem.evt', email, data: { n: 9 } }, key, other.api);
      expect(elsewhere.status).toBe(200);
      expect(elsewhere.body.data.contact).not.toBe(contactId);
    });

    it('answers 10 concurrent duplicates with one event and identical answers', async () => {
      const email = `idem-burst-${randomUUID()}@example.com`;
      const key = randomUUID();
      const body = { event: 'idem.burst', email, data: { at: 'once' } };
      const answers = await Promise.all(Array.from({ length: 10 }, () => track(body, key)));
      expect(answers.map((a) => a.status)).toEqual(Array(10).fill(200));
      for (const a of answers) expect(a.body).toEqual(answers[0]!.body);
      expect(await eventCount('idem.burst')).toBe(1);
      expect((await api.get(`/contacts?search=${email}`)).body.total).toBe(1);
    });
  });

  describe('track upserts the contact', () => {
    it('creates subscribed contacts unless subscribed:false, and flips an existing one only when given', async () => {
      const email = `upsert-${randomUUID()}@example.com`;
      const created = await api.post('/v1/track', { event: 'up.evt', email: `  ${email.toUpperCase()}` });
      expect(created.status).toBe(200);
      expect(Object.keys(created.body)).toEqual(['success', 'data']);
      expect(Object.keys(created.body.data).sort()).toEqual(['contact', 'event', 'timestamp']);
      const contactId = created.body.data.contact;
      const contact = await api.get(`/contacts/${contactId}`);
      expect(contact.body).toMatchObject({ email, subscribed: true, data: {} });
      const [event] = (await api.get(`/events?contactId=${contactId}`)).body.data;
      expect(event).toMatchObject({ id: created.body.data.event, name: 'up.evt', contactId, createdAt: created.body.data.timestamp });

      const quiet = `upsert-off-${randomUUID()}@example.com`;
      const off = await api.post('/v1/track', { event: 'up.evt', email: quiet, subscribed: false });
      expect((await api.get(`/contacts/${off.body.data.contact}`)).body.subscribed).toBe(false);
      expect(await eventCount('contact.unsubscribed', off.body.data.contact)).toBe(0);

      expect((await api.post('/v1/track', { event: 'up.evt', email })).body.data.contact).toBe(contactId);
      expect((await api.get(`/contacts/${contactId}`)).body.subscribed).toBe(true);
      await api.post('/v1/track', { event: 'up.evt', email, subscribed: false });
      expect((await api.get(`/contacts/${contactId}`)).body.subscribed).toBe(false);
      await api.post('/v1/track', { event: 'up.evt', email });
      expect((await api.get(`/contacts/${contactId}`)).body.subscribed).toBe(false);
      await api.post('/v1/track', { event: 'up.evt', email, subscribed: true });
      expect((await api.get(`/contacts/${contactId}`)).body.subscribed).toBe(true);
      const names = (await api.get(`/events?contactId=${contactId}&pageSize=100`)).body.data.map((e: { name: string }) => e.name);
      expect(names.filter((n: string) => n.startsWith('contact.'))).toEqual(['contact.subscribed', 'contact.unsubscribed']);
      expect(await eventCount('up.evt', contactId)).toBe(5);
    });

    it('lists the subscription change before the tracked event that caused it (newest first)', async () => {
      for (let i = 0; i < 10; i++) {
        const email = `order-${i}-${randomUUID()}@example.com`;
        await api.post('/contacts', { email });
        const r = await api.post('/v1/track', { event: 'order.evt', email, subscribed: false });
        const names = (await api.get(`/events?contactId=${r.body.data.contact}`)).body.data.map((e: { name: string }) => e.name);
        expect(names).toEqual(['order.evt', 'contact.unsubscribed']);
      }
    });

    it('merges data into the contact; null removes a key', async () => {
      const email = `merge-track-${randomUUID()}@example.com`;
      await api.post('/v1/track', { event: 'merge.evt', email, data: { a: 1, b: { deep: true }, c: 'x' } });
      const r = await api.post('/v1/track', { event: 'merge.evt', email, data: { b: { other: 1 }, c: null, d: [1] } });
      expect((await api.get(`/contacts/${r.body.data.contact}`)).body.data).toEqual({ a: 1, b: { other: 1 }, d: [1] });
    });

    it('keeps {value, persistent:false} items off the contact but in the event and the execution context', async () => {
      const wf = await buildWorkflow(api, {
        eventName: 'persist.evt',
        steps: [{ key: 'wait', type: 'WAIT_FOR_EVENT', config: { eventName: 'persist.never' } }],
        edges: [['trigger', 'wait']],
      });
      const email = `persist-${randomUUID()}@example.com`;
      await api.post('/contacts', { email, data: { plan: 'free' } });
      const tracked = await api.post('/v1/track', {
        event: 'persist.evt',
        email,
        data: { name: 'Ada', plan: { value: 'pro', persistent: false }, coupon: { value: { code: 'X1' }, persistent: false }, meta: { value: 1 } },
      });
      expect(tracked.status).toBe(200);
      const contactId = tracked.body.data.contact;
      expect((await api.get(`/contacts/${contactId}`)).body.data).toEqual({ plan: 'free', name: 'Ada', meta: { value: 1 } });
      const expected = { name: 'Ada', plan: 'pro', coupon: { code: 'X1' }, meta: { value: 1 } };
      const [event] = (await api.get(`/events?contactId=${contactId}&name=persist.evt`)).body.data;
      expect(event.data).toEqual(expected);
      const [execution] = (await executions(wf.id, `&contactId=${contactId}`)).data;
      expect(execution!.context).toEqual(expected);
      expect((await api.get(`/workflows/${wf.id}/executions/${execution!.id}`)).body.context).toEqual(expected);
      await api.post(`/workflows/${wf.id}/executions/cancel-all`);
    });
  });
});

describe('/v1/track rate limit', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp({ env: { RATE_LIMIT_TRACK_PER_SECOND: '2' } });
  });
  afterAll(async () => {
    await app?.close();
  });

  it('answers 429 RATE_LIMITED beyond the per-second limit and stores only what it accepted', async () => {
    const answers = [];
    for (let i = 0; i < 6; i++) answers.push(await app.api.post('/v1/track', { event: 'limited', email: 'limit@example.com' }));
    const accepted = answers.filter((a) => a.status === 200);
    const refused = answers.filter((a) => a.status === 429);
    expect(accepted.length + refused.length).toBe(6);
    // Six calls span at most two one-second windows of two calls each.
    expect(refused.length).toBeGreaterThanOrEqual(2);
    expect(refused[0]!.body).toEqual({ error: { code: 'RATE_LIMITED', message: 'more than 2 events per second', requestId: expect.any(String) } });
    const contact = accepted[0]!.body.data.contact;
    expect((await app.api.get(`/events?contactId=${contact}&name=limited`)).body.total).toBe(accepted.length);
  });
});
