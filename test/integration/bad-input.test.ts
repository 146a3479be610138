import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTrellis, type Trellis } from '../../app/trellis';
import { buildWorkflow, createTemplate } from '../support/builders';
import { ADMIN_KEY, startTestApp, testConfig, workflowBundle, type Api, type ApiResponse, type TestApp } from '../support/harness';

/** Asserts the one error shape of SPEC §10, with this status and code, and no stack trace. */
function expectError(res: ApiResponse, status: number, code: string): { code: string; message: string; details?: { path: string; message: string }[] } {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(Object.keys(res.body)).toEqual(['error']);
  const error = res.body.error;
  expect(error.code).toBe(code);
  expect(typeof error.message).toBe('string');
  expect(error.message.length).toBeGreaterThan(0);
  for (const key of Object.keys(error)) expect(['code', 'message', 'details', 'requestId']).toContain(key);
  expect(error.requestId).toBe(res.headers.get('x-request-id'));
  const text = JSON.stringify(res.body);
  expect(text).not.toMatch(/\bat [^ ]+ \(|node_modules|\.ts:\d+|\.js:\d+|stack/i);
  return error;
}

/** An error body without its request id (unique to each request), to compare two answers. */
function withoutRequestId(body: { error: Record<string, unknown> }): unknown {
  const { requestId: _requestId, ...error } = body.error;
  return { ...body, error };
}

/** Asserts a 400 VALIDATION_ERROR whose details name exactly these paths. */
function expectInvalid(res: ApiResponse, paths: string[]): void {
  const error = expectError(res, 400, 'VALIDATION_ERROR');
  expect(Array.isArray(error.details), JSON.stringify(error)).toBe(true);
  for (const d of error.details!) {
    expect(Object.keys(d).sort()).toEqual(['message', 'path']);
    expect(typeof d.message).toBe('string');
    expect(d.message.length).toBeGreaterThan(0);
  }
  expect(error.details!.map((d) => d.path).sort()).toEqual([...paths].sort());
}

/** A 400 VALIDATION_ERROR for a graph rule; returns its message. */
function expectGraphRefusal(res: ApiResponse): string {
  return expectError(res, 400, 'VALIDATION_ERROR').message;
}

describe('bad input never gets a 500', () => {
  let app: TestApp;
  let api: Api;

  beforeAll(async () => {
    app = await startTestApp();
    api = app.api;
  });
  afterAll(async () => {
    await app?.close();
  });

  describe('malformed bodies', () => {
    it('answers 400 VALIDATION_ERROR to a body that is not JSON', async () => {
      for (const [method, path] of [
        ['POST', '/contacts'],
        ['POST', '/templates'],
        ['POST', '/workflows'],
        ['POST', '/v1/track'],
      ] as const) {
        const res = await api.request(method, path, undefined, { raw: '{"a":' });
        expectError(res, 400, 'VALIDATION_ERROR');
      }
    });

    it('answers 400 to a body that is JSON but not an object, on every write route', async () => {
      const wf = await buildWorkflow(api, { eventName: 'bad.body', steps: [{ key: 'exit', type: 'EXIT' }], edges: [], enabled: false });
      const contact = await api.post('/contacts', { email: `shape-${randomUUID()}@example.com` });
      const template = await createTemplate(api, { subject: 's', body: 'b' });
      const before = await api.get(`/workflows/${wf.id}`);
      const routes: [string, string][] = [
        ['POST', '/contacts'],
        ['PATCH', `/contacts/${contact.body.id}`],
        ['POST', '/templates'],
        ['PATCH', `/templates/${template}`],
        ['POST', '/workflows'],
        ['PATCH', `/workflows/${wf.id}`],
        ['POST', `/workflows/${wf.id}/steps`],
        ['PATCH', `/workflows/${wf.id}/steps/${wf.steps.exit}`],
        ['POST', `/workflows/${wf.id}/transitions`],
        ['POST', `/workflows/${wf.id}/executions`],
        ['POST', '/v1/track'],
      ];
      for (const [method, path] of routes) {
        for (const raw of ['[]', '"text"', '42', 'null', '[{"email":"a@b.co"}]']) {
          const res = await api.request(method, path, undefined, { raw });
          expect(res.status, `${method} ${path} ${raw}: ${JSON.stringify(res.body)}`).toBe(400);
          expectError(res, 400, 'VALIDATION_ERROR');
        }
      }
      // Nothing was changed by any of them.
      const after = await api.get(`/workflows/${wf.id}`);
      expect(after.body).toEqual(before.body);
    });
  });

  describe('input no schema could store', () => {
    const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);

    it('refuses JSON nested deeper than 64 levels with 400, and accepts moderate nesting', async () => {
      const wf = await api.post('/workflows', { name: 'deep', eventName: 'deep.evt' });
      const cases: [string, string, string][] = [
        ['/contacts', `{"email":"deep@example.com","data":{"a":${nested(100_000)}}}`, 'data.a.0.0.0'],
        ['/contacts', `{"email":"deep@example.com","data":{"a":${nested(64)}}}`, 'data.a.0.0.0'],
        ['/v1/track', `{"event":"deep","email":"deep@example.com","data":{"a":${nested(5000)}}}`, 'data.a.0.0.0'],
        [`/workflows/${wf.body.id}/steps`, `{"type":"WEBHOOK","config":{"url":"https://example.com","body":${nested(100_000)}}}`, 'config.body.0.0.0'],
        [
          `/workflows/${wf.body.id}/steps`,
          `{"type":"CONDITION","config":${'{"logic":"AND","groups":[{"filters":[],"conditions":'.repeat(2000)}{"logic":"AND","groups":[]}${'}]}'.repeat(2000)}}`,
          'config.groups.0.conditions',
        ],
      ];
      for (const [path, raw, prefix] of cases) {
        const res = await api.request('POST', path, undefined, { raw });
        const error = expectError(res, 400, 'VALIDATION_ERROR');
        expect(error.details).toHaveLength(1);
        expect(error.details![0]!.path.startsWith(prefix), error.details![0]!.path).toBe(true);
      }
      expect((await api.get('/contacts?search=deep@example.com')).body.total).toBe(0);
      expect((await api.get(`/workflows/${wf.body.id}`)).body.steps).toHaveLength(1);

      const fine = await api.request('POST', '/contacts', undefined, { raw: `{"email":"deep@example.com","data":{"a":${nested(40)}}}` });
      expect(fine.status).toBe(201);
      expect(JSON.stringify(fine.body.data)).toBe(`{"a":${nested(40)}}`);
    });

    it('refuses NUL characters and unpaired surrogates anywhere in the input with 400', async () => {
      const wf = await api.post('/workflows', { name: 'nul', eventName: 'nul.evt' });
      const cases: [string, string, unknown, string][] = [
        ['POST', '/contacts', { email: 'nul@example.com', data: { note: 'a\u0000b' } }, 'data.note'],
        ['POST', '/contacts', { email: 'nul@example.com', data: { 'key\u0000': 'x' } }, 'data.key\u0000'],
        ['POST', '/contacts', { email: 'nul@example.com', data: { list: ['ok', 'bad\ud800'] } }, 'data.list.1'],
        ['POST', '/v1/track', { event: 'a\u0000b', email: 'nul@example.com' }, 'event'],
        ['POST', '/v1/track', { event: 'ok', email: 'nul@example.com', data: { x: '\udc00' } }, 'data.x'],
        ['POST', '/templates', { name: 'n\u0000', subject: 's', body: 'b' }, 'name'],
        ['POST', '/workflows', { name: 'w\u0000', eventName: 'x' }, 'name'],
        ['PATCH', `/workflows/${wf.body.id}`, { description: '\u0000' }, 'description'],
        ['POST', `/workflows/${wf.body.id}/steps`, { type: 'EXIT', config: { reason: 'r\u0000' } }, 'config.reason'],
        ['GET', '/contacts?search=%00', undefined, 'query.search'],
        ['GET', '/events?name=a%00', undefined, 'query.name'],
      ];
      for (const [method, path, body, at] of cases) {
        const res = await api.request(method, path, body);
        const error = expectError(res, 400, 'VALIDATION_ERROR');
        expect(
          error.details!.map((d) => d.path),
          `${method} ${path}`,
        ).toEqual([at]);
      }
      expectError(await app.as(ADMIN_KEY).post('/admin/projects', { name: 'p\u0000' }), 400, 'VALIDATION_ERROR');
      expect((await api.get('/contacts?search=nul@example.com')).body.total).toBe(0);
      // Paired surrogates (an emoji) are ordinary text.
      const emoji = await api.post('/contacts', { email: 'emoji@example.com', data: { mood: '😀' } });
      expect(emoji.status).toBe(201);
      expect(emoji.body.data).toEqual({ mood: '😀' });
    });
  });

  describe('field validation', () => {
    it('names every bad field of a contact', async () => {
      expectInvalid(await api.post('/contacts', { email: 42, subscribed: 'yes', data: [1] }), ['email', 'subscribed', 'data']);
      expectInvalid(await api.post('/contacts', { email: 'not an email' }), ['email']);
      expectInvalid(await api.post('/contacts', {}), ['email']);
      expectInvalid(await api.post('/contacts', { email: 'a@b.co', colour: 'red', size: 3 }), ['colour', 'size']);
      const c = await api.post('/contacts', { email: `fields-${randomUUID()}@example.com` });
      expect(c.status).toBe(201);
      expectInvalid(await api.patch(`/contacts/${c.body.id}`, { subscribed: 1, data: 'x' }), ['subscribed', 'data']);
      expectInvalid(await api.patch(`/contacts/${c.body.id}`, { id: randomUUID() }), ['id']);
    });

    it('names every bad field of a template and a workflow', async () => {
      expectInvalid(await api.post('/templates', { name: 'n', subject: 's', body: 'b', type: 'PROMO', from: 'nobody' }), ['type', 'from']);
      expectInvalid(await api.post('/templates', { subject: 7 }), ['name', 'subject', 'body']);
      expectInvalid(await api.post('/workflows', { name: 5, eventName: [] }), ['name', 'eventName']);
      expectInvalid(await api.post('/workflows', { name: 'ok', eventName: 'ok', steps: 'none' }), ['steps']);
      const wf = await api.post('/workflows', { name: 'fields', eventName: 'fields.evt' });
      expect(wf.status).toBe(201);
      expectInvalid(await api.patch(`/workflows/${wf.body.id}`, { enabled: 'yes', allowReentry: null }), ['enabled', 'allowReentry']);
      expectInvalid(await api.patch(`/workflows/${wf.body.id}`, { triggerType: 'WEBHOOK' }), ['triggerType']);
      expectInvalid(await api.patch(`/workflows/${wf.body.id}`, { triggerConfig: { eventName: '' } }), ['triggerConfig.eventName']);
      expectInvalid(await api.patch(`/workflows/${wf.body.id}`, { triggerType: 'MANUAL', triggerConfig: { eventName: 'x' } }), ['triggerConfig.eventName']);
      expectInvalid(await api.patch(`/workflows/${wf.body.id}`, { version: 7 }), ['version']);
      const unchanged = await api.get(`/workflows/${wf.body.id}`);
      expect(unchanged.body).toMatchObject({ triggerType: 'EVENT', triggerConfig: { eventName: 'fields.evt' }, enabled: false, version: 1 });
    });

    it('names every bad query parameter', async () => {
      expectInvalid(await api.get('/contacts?page=0'), ['query.page']);
      expectInvalid(await api.get('/contacts?pageSize=101'), ['query.pageSize']);
      expectInvalid(await api.get('/contacts?page=abc&pageSize=-1'), ['query.page', 'query.pageSize']);
      expectInvalid(await api.get('/contacts?search=a&search=b'), ['query.search']);
      expectInvalid(await api.get('/workflows?enabled=maybe'), ['query.enabled']);
      expectInvalid(await api.get('/events?contactId=nope'), ['query.contactId']);
      expectInvalid(await api.get('/emails?executionId=nope'), ['query.executionId']);
      const wf = await api.post('/workflows', { name: 'q', eventName: 'q.evt' });
      expectInvalid(await api.get(`/workflows/${wf.body.id}/executions?status=DONE`), ['query.status']);
    });

    it('refuses a manual start without exactly one of contactId and email', async () => {
      const wf = await buildWorkflow(api, { eventName: 'manual.fields', steps: [], edges: [] });
      expectError(await api.post(`/workflows/${wf.id}/executions`, {}), 400, 'VALIDATION_ERROR');
      expectError(await api.post(`/workflows/${wf.id}/executions`, { contactId: randomUUID(), email: 'a@b.co' }), 400, 'VALIDATION_ERROR');
      expectInvalid(await api.post(`/workflows/${wf.id}/executions`, { email: 'a@b.co', context: 'x' }), ['context']);
      expectInvalid(await api.post(`/workflows/${wf.id}/executions`, { contactId: 'abc' }), ['contactId']);
      const list = await api.get(`/workflows/${wf.id}/executions`);
      expect(list.body.total).toBe(0);
    });
  });

  describe('steps', () => {
    let workflowId: string;
    let version: number;

    beforeAll(async () => {
      const created = await api.post('/workflows', { name: 'step configs', eventName: 'step.configs' });
      workflowId = created.body.id;
      version = created.body.version;
    });

    async function expectUnchanged() {
      const wf = await api.get(`/workflows/${workflowId}`);
      expect(wf.body.version).toBe(version);
      expect(wf.body.steps.map((s: { type: string }) => s.type)).toEqual(['TRIGGER']);
    }

    it('refuses an unknown step type', async () => {
      expectInvalid(await api.post(`/workflows/${workflowId}/steps`, { type: 'SEND_FAX', config: {} }), ['type']);
      expectInvalid(await api.post(`/workflows/${workflowId}/steps`, { config: {} }), ['type']);
      expectInvalid(await api.post(`/workflows/${workflowId}/steps`, { type: 'DELAY', config: { amount: 1, unit: 'days' }, position: { x: 'a', y: 1 } }), [
        'position.x',
      ]);
      await expectUnchanged();
    });

    it('names the path of every bad config field', async () => {
      const post = (type: string, config: unknown) => api.post(`/workflows/${workflowId}/steps`, { type, config });
      expectInvalid(await post('DELAY', { amount: -1, unit: 'fortnights' }), ['config.amount', 'config.unit']);
      expectInvalid(await post('DELAY', { amount: 1.5, unit: 'days' }), ['config.amount']);
      expectInvalid(await post('DELAY', { amount: 366, unit: 'days' }), ['config.amount']);
      expectInvalid(await post('DELAY', { amount: 1, unit: 'days', jitter: true }), ['config.jitter']);
      expectInvalid(await post('DELAY', 'one day'), ['config']);
      expectInvalid(await post('SEND_EMAIL', {}), ['config.templateId']);
      expectInvalid(await post('SEND_EMAIL', { templateId: 'welcome' }), ['config.templateId']);
      expectInvalid(await post('SEND_EMAIL', { templateId: randomUUID() }), ['config.templateId']);
      expectInvalid(await post('WAIT_FOR_EVENT', { eventName: ' ', timeout: 0 }), ['config.eventName', 'config.timeout']);
      expectInvalid(await post('WEBHOOK', { url: 'ftp://example.com/x', method: 'FETCH', headers: { 'bad header': 'x' } }), [
        'config.url',
        'config.method',
        'config.headers.bad header',
      ]);
      expectInvalid(await post('WEBHOOK', { url: '/relative' }), ['config.url']);
      expectInvalid(await post('UPDATE_CONTACT', {}), ['config']);
      expectInvalid(await post('UPDATE_CONTACT', { subscribed: 'no' }), ['config.subscribed']);
      expectInvalid(await post('EXIT', { reason: 5 }), ['config.reason']);
      expectInvalid(await post('CONDITION', { field: 'contact.email', operator: 'looksLike', value: 'x' }), ['config.operator']);
      expectInvalid(await post('CONDITION', { field: 'contact.email', operator: 'equals' }), ['config.value']);
      expectInvalid(await post('CONDITION', { logic: 'XOR', groups: [{ filters: [{ field: 'data.plan', operator: 'exists' }] }] }), ['config.logic']);
      expectInvalid(await post('CONDITION', { logic: 'AND', groups: [{ filters: [{ field: 'data.plan', operator: 'within', value: 3 }] }] }), [
        'config.groups.0.filters.0.unit',
      ]);
      await expectUnchanged();
    });

    it('validates a config change the same way and keeps the old config', async () => {
      const step = await api.post(`/workflows/${workflowId}/steps`, { type: 'DELAY', config: { amount: 2, unit: 'hours' } });
      expect(step.status).toBe(201);
      const wf = await api.get(`/workflows/${workflowId}`);
      expectInvalid(await api.patch(`/workflows/${workflowId}/steps/${step.body.id}`, { config: { amount: 0, unit: 'hours' } }), ['config.amount']);
      expectInvalid(await api.patch(`/workflows/${workflowId}/steps/${step.body.id}`, { type: 'EXIT' }), ['type']);
      const after = await api.get(`/workflows/${workflowId}`);
      expect(after.body.version).toBe(wf.body.version);
      expect(after.body.steps.find((s: { id: string }) => s.id === step.body.id).config).toEqual({ amount: 2, unit: 'hours' });
      expect((await api.delete(`/workflows/${workflowId}/steps/${step.body.id}`)).status).toBe(204);
      version = (await api.get(`/workflows/${workflowId}`)).body.version;
    });

    it('refuses adding or deleting the TRIGGER step', async () => {
      const wf = await api.get(`/workflows/${workflowId}`);
      const trigger = wf.body.steps.find((s: { type: string }) => s.type === 'TRIGGER');
      expectError(await api.post(`/workflows/${workflowId}/steps`, { type: 'TRIGGER', config: {} }), 400, 'VALIDATION_ERROR');
      expectError(await api.delete(`/workflows/${workflowId}/steps/${trigger.id}`), 400, 'VALIDATION_ERROR');
      expectError(await api.delete(`/workflows/${workflowId}/steps/${trigger.id}?splice=true`), 400, 'VALIDATION_ERROR');
      await expectUnchanged();
    });
  });

  describe('graph rules', () => {
    it('refuses every transition that breaks a rule and changes nothing', async () => {
      const wf = await buildWorkflow(api, {
        eventName: 'graph.rules',
        enabled: false,
        steps: [
          { key: 'a', type: 'DELAY', config: { amount: 1, unit: 'days' } },
          { key: 'b', type: 'DELAY', config: { amount: 1, unit: 'days' } },
          { key: 'c', type: 'DELAY', config: { amount: 1, unit: 'days' } },
          { key: 'cond', type: 'CONDITION', config: { field: 'data.plan', operator: 'equals', value: 'pro' } },
          { key: 'wait', type: 'WAIT_FOR_EVENT', config: { eventName: 'go' } },
          { key: 'exit', type: 'EXIT' },
          { key: 'd', type: 'EXIT' },
          { key: 'x', type: 'WEBHOOK', config: { url: 'https://example.com/x' } },
          { key: 'y', type: 'UPDATE_CONTACT', config: { subscribed: true } },
        ],
        edges: [
          ['trigger', 'a'],
          ['a', 'b'],
          ['b', 'c'],
          ['cond', 'd', 'yes'],
          ['x', 'y'],
        ],
      });
      const before = await api.get(`/workflows/${wf.id}`);
      const s = wf.steps;
      const add = (from: string, to: string, branch?: string | null) =>
        api.post(`/workflows/${wf.id}/transitions`, { fromStepId: s[from], toStepId: s[to], ...(branch !== undefined ? { branch } : {}) });

      expect(expectGraphRefusal(await add('y', 'x'))).toMatch(/cycle/i);
      expect(expectGraphRefusal(await add('c', 'a'))).toMatch(/cycle/i);
      expect(expectGraphRefusal(await add('a', 'a'))).toMatch(/itself/i);
      expect(expectGraphRefusal(await add('exit', 'a'))).toMatch(/EXIT/);
      expect(expectGraphRefusal(await add('a', 'exit'))).toMatch(/at most one/i);
      expect(expectGraphRefusal(await add('c', 'exit', 'yes'))).toMatch(/branch/i);
      expect(expectGraphRefusal(await add('cond', 'exit', 'yes'))).toMatch(/"yes"/);
      expect(expectGraphRefusal(await add('cond', 'exit', 'maybe'))).toMatch(/branch/i);
      expect(expectGraphRefusal(await add('cond', 'exit'))).toMatch(/unbranched/i);
      expect(expectGraphRefusal(await add('wait', 'exit', 'no'))).toMatch(/branch/i);
      expect(expectGraphRefusal(await add('c', 'trigger'))).toMatch(/TRIGGER/);
      expect(expectGraphRefusal(await add('cond', 'trigger', 'no'))).toMatch(/TRIGGER/);
      expectInvalid(await api.post(`/workflows/${wf.id}/transitions`, { fromStepId: s.c, toStepId: 'exit' }), ['toStepId']);
      expectInvalid(await api.post(`/workflows/${wf.id}/transitions`, { fromStepId: s.c, toStepId: s.exit, branch: 5 }), ['branch']);

      // A cycle through a CONDITION branch is refused as well.
      const condToA = await add('c', 'cond');
      expect(condToA.status).toBe(201);
      expect(expectGraphRefusal(await add('cond', 'a', 'no'))).toMatch(/cycle/i);

      const after = await api.get(`/workflows/${wf.id}`);
      expect(after.body.version).toBe(before.body.version + 1);
      expect(after.body.transitions).toHaveLength(before.body.transitions.length + 1);
      // Valid transitions on the same steps are accepted.
      expect((await add('cond', 'exit', 'no')).status).toBe(201);
      expect((await add('wait', 'exit', 'event')).status).toBe(201);
      expect((await add('wait', 'd', 'timeout')).status).toBe(201);
    });
  });

  describe('ids', () => {
    let other: Awaited<ReturnType<TestApp['newProject']>>;
    let foreign: { contact: string; template: string; workflow: string; step: string; transition: string; execution: string };

    beforeAll(async () => {
      other = await app.newProject('other project');
      const contact = await other.api.post('/contacts', { email: 'foreign@example.com' });
      const template = await createTemplate(other.api, { subject: 'theirs', body: 'theirs' });
      const wf = await buildWorkflow(other.api, {
        eventName: 'foreign.evt',
        steps: [{ key: 'wait', type: 'WAIT_FOR_EVENT', config: { eventName: 'never' } }],
        edges: [['trigger', 'wait']],
      });
      const graph = await other.api.get(`/workflows/${wf.id}`);
      const execution = await other.api.post(`/workflows/${wf.id}/executions`, { contactId: contact.body.id });
      expect(execution.status).toBe(201);
      foreign = {
        contact: contact.body.id,
        template,
        workflow: wf.id,
        step: wf.steps.wait!,
        transition: graph.body.transitions[0].id,
        execution: execution.body.id,
      };
    });

    afterAll(async () => {
      await other?.api.post(`/workflows/${foreign.workflow}/executions/cancel-all`);
    });

    it("answers another project's ids exactly as ids that do not exist", async () => {
      const mine = await buildWorkflow(api, { eventName: 'mine.evt', steps: [{ key: 'exit', type: 'EXIT' }], edges: [], enabled: false });
      const random = randomUUID();
      const cases: [string, string, unknown?][] = [
        ['GET', '/contacts/:contact'],
        ['PATCH', '/contacts/:contact', { subscribed: false }],
        ['DELETE', '/contacts/:contact'],
        ['GET', '/contacts/:contact/executions'],
        ['GET', '/templates/:template'],
        ['PATCH', '/templates/:template', { subject: 'mine now' }],
        ['DELETE', '/templates/:template'],
        ['GET', '/workflows/:workflow'],
        ['PATCH', '/workflows/:workflow', { name: 'mine now' }],
        ['DELETE', '/workflows/:workflow'],
        ['POST', '/workflows/:workflow/duplicate', {}],
        ['POST', '/workflows/:workflow/steps', { type: 'EXIT', config: {} }],
        ['PATCH', '/workflows/:workflow/steps/:step', { name: 'x' }],
        ['DELETE', '/workflows/:workflow/steps/:step'],
        ['POST', '/workflows/:workflow/transitions', { fromStepId: random, toStepId: random }],
        ['DELETE', '/workflows/:workflow/transitions/:transition'],
        ['GET', '/workflows/:workflow/executions'],
        ['POST', '/workflows/:workflow/executions', { email: 'x@example.com' }],
        ['POST', '/workflows/:workflow/executions/cancel-all', {}],
        ['GET', '/workflows/:workflow/executions/:execution'],
        ['DELETE', '/workflows/:workflow/executions/:execution'],
        // Their step, transition and execution under my own workflow.
        ['PATCH', `/workflows/${mine.id}/steps/:step`, { name: 'x' }],
        ['DELETE', `/workflows/${mine.id}/steps/:step`],
        ['DELETE', `/workflows/${mine.id}/transitions/:transition`],
        ['GET', `/workflows/${mine.id}/executions/:execution`],
        ['DELETE', `/workflows/${mine.id}/executions/:execution`],
      ];
      const fill = (path: string, ids: Record<string, string>) => path.replace(/:(\w+)/g, (_, k: string) => ids[k]!);
      const randoms = Object.fromEntries(Object.keys(foreign).map((k) => [k, randomUUID()]));
      for (const [method, path, body] of cases) {
        const theirs = await api.request(method, fill(path, foreign), body);
        const none = await api.request(method, fill(path, randoms), body);
        expectError(theirs, 404, 'NOT_FOUND');
        expect(withoutRequestId(theirs.body), `${method} ${path}`).toEqual(withoutRequestId(none.body));
      }

      // Nothing of theirs was changed.
      expect((await other.api.get(`/contacts/${foreign.contact}`)).body.subscribed).toBe(true);
      expect((await other.api.get(`/templates/${foreign.template}`)).body.subject).toBe('theirs');
      const theirWorkflow = await other.api.get(`/workflows/${foreign.workflow}`);
      expect(theirWorkflow.body.name).toBe('test workflow');
      expect(theirWorkflow.body.steps).toHaveLength(2);
      expect(theirWorkflow.body.transitions).toHaveLength(1);
      const theirExecution = await other.api.get(`/workflows/${foreign.workflow}/executions/${foreign.execution}`);
      expect(['RUNNING', 'WAITING']).toContain(theirExecution.body.status);
      expect((await other.api.get('/contacts?search=x@example.com')).body.total).toBe(0);
    });

    it("refuses another project's contact, template and steps inside a body like unknown ones", async () => {
      const mine = await buildWorkflow(api, { eventName: 'mine.refs', steps: [{ key: 'exit', type: 'EXIT' }], edges: [] });
      const start = await api.post(`/workflows/${mine.id}/executions`, { contactId: foreign.contact });
      expectError(start, 404, 'NOT_FOUND');
      expect(withoutRequestId(start.body)).toEqual(withoutRequestId((await api.post(`/workflows/${mine.id}/executions`, { contactId: randomUUID() })).body));

      const theirTemplate = await api.post(`/workflows/${mine.id}/steps`, { type: 'SEND_EMAIL', config: { templateId: foreign.template } });
      expectInvalid(theirTemplate, ['config.templateId']);
      const unknownTemplate = await api.post(`/workflows/${mine.id}/steps`, { type: 'SEND_EMAIL', config: { templateId: randomUUID() } });
      expect(withoutRequestId(theirTemplate.body)).toEqual(withoutRequestId(unknownTemplate.body));

      const theirStep = await api.post(`/workflows/${mine.id}/transitions`, { fromStepId: mine.steps.exit, toStepId: foreign.step });
      expect(theirStep.status).toBe(400);
      const linkToTheirs = await api.post(`/workflows/${mine.id}/transitions`, { fromStepId: mine.triggerId, toStepId: foreign.step });
      const linkToNothing = await api.post(`/workflows/${mine.id}/transitions`, { fromStepId: mine.triggerId, toStepId: randomUUID() });
      expectError(linkToTheirs, 400, 'VALIDATION_ERROR');
      expect(linkToTheirs.body.error.code).toBe(linkToNothing.body.error.code);
      expect(linkToTheirs.body.error.message).not.toContain('foreign');
      expect((await api.get(`/workflows/${mine.id}`)).body.transitions).toHaveLength(0);
    });

    it('answers 404 to a path id that is not a UUID', async () => {
      const wf = await buildWorkflow(api, { eventName: 'uuid.paths', steps: [], edges: [], enabled: false });
      for (const [method, path] of [
        ['GET', '/contacts/123'],
        ['PATCH', '/contacts/not-a-uuid'],
        ['DELETE', '/contacts/1'],
        ['GET', '/contacts/abc/executions'],
        ['GET', '/templates/abc'],
        ['GET', '/workflows/abc'],
        ['PATCH', '/workflows/abc'],
        ['POST', '/workflows/abc/steps'],
        ['PATCH', `/workflows/${wf.id}/steps/abc`],
        ['DELETE', `/workflows/${wf.id}/steps/abc`],
        ['DELETE', `/workflows/${wf.id}/transitions/abc`],
        ['GET', `/workflows/${wf.id}/executions/abc`],
        ['DELETE', `/workflows/${wf.id}/executions/abc`],
        ['GET', '/no-such-route'],
      ] as const) {
        const res = await api.request(method, path, method === 'GET' || method === 'DELETE' ? undefined : { name: 'x' });
        expectError(res, 404, 'NOT_FOUND');
      }
    });
  });

  describe('authentication', () => {
    it('answers 401 UNAUTHORIZED without a key or with an unknown one', async () => {
      for (const path of ['/contacts', '/templates', '/workflows', '/events', '/emails']) {
        expectError(await app.as(null).get(path), 401, 'UNAUTHORIZED');
        expectError(await app.as('sk_unknown').get(path), 401, 'UNAUTHORIZED');
        expectError(await app.as('pk_unknown').get(path), 401, 'UNAUTHORIZED');
        expectError(await app.as('garbage').get(path), 401, 'UNAUTHORIZED');
        expectError(
          await api.request('GET', path, undefined, { key: null, headers: { authorization: `Basic ${app.project.secretKey}` } }),
          401,
          'UNAUTHORIZED',
        );
      }
      expectError(await app.as(null).post('/v1/track', { event: 'x', email: 'a@b.co' }), 401, 'UNAUTHORIZED');
      expectError(await app.as('pk_unknown').post('/v1/track', { event: 'x', email: 'a@b.co' }), 401, 'UNAUTHORIZED');
      expectError(await app.as(null).post('/contacts', { email: 'nokey@example.com' }), 401, 'UNAUTHORIZED');
      expect((await api.get('/contacts?search=nokey@example.com')).body.total).toBe(0);
    });

    it('answers 403 FORBIDDEN to the public key on a secret route', async () => {
      const pk = app.as(app.project.publicKey);
      for (const path of ['/contacts', '/templates', '/workflows', '/events', '/emails']) {
        expectError(await pk.get(path), 403, 'FORBIDDEN');
      }
      expectError(await pk.post('/contacts', { email: 'pk@example.com' }), 403, 'FORBIDDEN');
      expect((await api.get('/contacts?search=pk@example.com')).body.total).toBe(0);
    });

    it('checks the key before the body: a malformed body without a valid key is 401/403, not 400', async () => {
      expectError(await api.request('POST', '/contacts', undefined, { key: null, raw: '{"email":' }), 401, 'UNAUTHORIZED');
      expectError(await api.request('POST', '/v1/track', undefined, { key: 'pk_unknown', raw: '{"event":' }), 401, 'UNAUTHORIZED');
      expectError(await api.request('POST', '/workflows', undefined, { key: app.project.publicKey, raw: '[[[' }), 403, 'FORBIDDEN');
      // With a valid key the same body is a 400.
      expectError(await api.request('POST', '/contacts', undefined, { raw: '{"email":' }), 400, 'VALIDATION_ERROR');
    });

    it('accepts the public and the secret key on /v1/track', async () => {
      const viaPublic = await app.as(app.project.publicKey).post('/v1/track', { event: 'pk.track', email: 'pk-track@example.com' });
      expect(viaPublic.status).toBe(200);
      expect(viaPublic.body.success).toBe(true);
      const viaSecret = await api.post('/v1/track', { event: 'pk.track', email: 'pk-track@example.com' });
      expect(viaSecret.status).toBe(200);
      expect(viaSecret.body.data.contact).toBe(viaPublic.body.data.contact);
      const events = await api.get(`/events?contactId=${viaPublic.body.data.contact}`);
      expect(events.body.total).toBe(2);
    });

    it("does not take another project's key as this project's", async () => {
      const other = await app.newProject('key check');
      const c = await api.post('/contacts', { email: `keys-${randomUUID()}@example.com` });
      expectError(await other.api.get(`/contacts/${c.body.id}`), 404, 'NOT_FOUND');
      const tracked = await app.as(other.publicKey).post('/v1/track', { event: 'e', email: c.body.email });
      expect(tracked.status).toBe(200);
      expect(tracked.body.data.contact).not.toBe(c.body.id);
    });

    it('answers 401 on admin routes without the admin key', async () => {
      expectError(await app.as(null).post('/admin/projects', { name: 'x' }), 401, 'UNAUTHORIZED');
      expectError(await app.as(app.project.secretKey).post('/admin/projects', { name: 'x' }), 401, 'UNAUTHORIZED');
      expectError(await app.as(`${ADMIN_KEY}x`).get('/admin/projects'), 401, 'UNAUTHORIZED');
      expectInvalid(await app.as(ADMIN_KEY).post('/admin/projects', { name: '' }), ['name']);
      expectInvalid(await app.as(ADMIN_KEY).post('/admin/projects', {}), ['name']);
    });
  });

  describe('sizes and names', () => {
    it('answers 413 to a body over 1 MB', async () => {
      const big = JSON.stringify({ email: 'big@example.com', data: { blob: 'x'.repeat(1024 * 1024) } });
      expectError(await api.request('POST', '/contacts', undefined, { raw: big }), 413, 'PAYLOAD_TOO_LARGE');
      const bigTrack = JSON.stringify({ event: 'big', email: 'big@example.com', data: { blob: 'x'.repeat(1024 * 1024) } });
      expectError(await api.request('POST', '/v1/track', undefined, { raw: bigTrack }), 413, 'PAYLOAD_TOO_LARGE');
      expect((await api.get('/contacts?search=big@example.com')).body.total).toBe(0);
    });

    it('answers 413 to track data over 64 KB and stores nothing', async () => {
      const res = await api.post('/v1/track', { event: 'big.data', email: 'bigdata@example.com', data: { blob: 'x'.repeat(65 * 1024) } });
      expectError(res, 413, 'PAYLOAD_TOO_LARGE');
      expect((await api.get('/contacts?search=bigdata@example.com')).body.total).toBe(0);
      expect((await api.get('/events?name=big.data')).body.total).toBe(0);
      const small = await api.post('/v1/track', { event: 'big.data', email: 'bigdata@example.com', data: { blob: 'x'.repeat(60 * 1024) } });
      expect(small.status).toBe(200);
    });

    it('refuses reserved event names on /v1/track', async () => {
      for (const event of ['email.sent', 'email.opened', 'contact.subscribed', 'contact.unsubscribed', 'segment.x.entry', ' email.sent ']) {
        expectInvalid(await api.post('/v1/track', { event, email: 'reserved@example.com' }), ['event']);
      }
      expect((await api.get('/contacts?search=reserved@example.com')).body.total).toBe(0);
      // Names that only look alike are the user's.
      for (const event of ['emails.sent', 'contact.updated', 'segmentation']) {
        expect((await api.post('/v1/track', { event, email: 'reserved@example.com' })).status).toBe(200);
      }
    });

    it('names every bad field of a track call', async () => {
      expectInvalid(await api.post('/v1/track', { event: '', email: 'x', subscribed: 'y', data: 3 }), ['event', 'email', 'subscribed', 'data']);
      expectInvalid(await api.post('/v1/track', { event: 'ok', email: 'ok@example.com', when: 'now' }), ['when']);
      expectError(
        await api.request('POST', '/v1/track', { event: 'ok', email: 'ok@example.com' }, { headers: { 'idempotency-key': 'k'.repeat(256) } }),
        400,
        'VALIDATION_ERROR',
      );
    });
  });

  describe('without ADMIN_API_KEY', () => {
    let bare: Trellis;

    beforeAll(async () => {
      bare = await startTrellis(testConfig({ ADMIN_API_KEY: '', ROLE: 'api' }), { workflowBundle: workflowBundle() });
    });
    afterAll(async () => {
      await bare?.close();
    });

    it('has no admin routes: 404 with or without a key', async () => {
      for (const key of [null, ADMIN_KEY, 'anything']) {
        const headers: Record<string, string> = key ? { authorization: `Bearer ${key}` } : {};
        const post = await fetch(`${bare.url}/admin/projects`, {
          method: 'POST',
          headers: { ...headers, 'content-type': 'application/json' },
          body: '{"name":"x"}',
        });
        expect(post.status).toBe(404);
        const postBody = (await post.json()) as { error: { code: string } };
        expect(postBody.error.code).toBe('NOT_FOUND');
        const get = await fetch(`${bare.url}/admin/projects`, { headers });
        expect(get.status).toBe(404);
        expect(((await get.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND');
      }
      // The rest of the API still answers.
      const health = await fetch(`${bare.url}/healthz`);
      expect(health.status).toBe(200);
      expect((await fetch(`${bare.url}/contacts`)).status).toBe(401);
    });
  });
});
