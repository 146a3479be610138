import { createRenderer } from '../../activities/renderer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import express from 'express';
import { createApp } from '../../api/app';
import { TrellisApiError } from '../../api/client';
import { endpoints } from '../../api/contracts';
import { onlyFinished } from '../support/executions';
import { expressRoutes } from '../support/express-routes';
import { startTestApp, type TestApp } from '../support/harness';

type Doc = {
  openapi: string;
  paths: Record<string, Record<string, { operationId: string; security: unknown[]; responses: Record<string, unknown>; requestBody?: unknown }>>;
  components: { schemas: Record<string, unknown>; responses: Record<string, unknown>; securitySchemes: Record<string, unknown> };
};

/** `METHOD /path` of every operation in the document, in Express path syntax. */
function documented(doc: Doc): string[] {
  return Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`));
}

describe('the API describes itself', () => {
  let app: TestApp;
  let doc: Doc;

  beforeAll(async () => {
    app = await startTestApp();
    const res = await app.as(null).get('/openapi.json');
    expect(res.status).toBe(200);
    doc = res.body as Doc;
  });
  afterAll(async () => {
    await app?.close();
  });

  it('serves a valid OpenAPI 3.1 document without a key', async () => {
    const { Validator } = await import('@seriousme/openapi-schema-validator');
    const validator = new Validator();
    const result = await validator.validate(doc as unknown as Parameters<typeof validator.validate>[0]);
    expect(result.errors ?? [], JSON.stringify(result.errors, null, 1)?.slice(0, 2000)).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
    expect(doc.openapi).toBe('3.1.0');
  });

  it('documents every route the application serves, and serves every documented one', () => {
    const served = expressRoutes(createApp(appDeps(app)));
    expect(served.length).toBe(Object.keys(endpoints).length);
    expect([...served].sort()).toEqual([...documented(doc)].sort());
  });

  it('catches a route added without a declaration', () => {
    const server = createApp(appDeps(app));
    const legacy = express.Router();
    legacy.get('/legacy/:id', (_req, res) => res.end());
    server.use(legacy);
    const missing = expressRoutes(server).filter((r) => !documented(doc).includes(r));
    expect(missing).toEqual(['GET /legacy/:id']);
  });

  it('answers 405 with the allowed methods to a known path with another method', async () => {
    const res = await app.api.request('PUT', '/contacts', { email: 'put@example.com' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST, GET, HEAD, OPTIONS');
    expect(res.body.error.code).toBe('METHOD_NOT_ALLOWED');
    const options = await app.api.request('OPTIONS', '/workflows/00000000-0000-4000-8000-000000000000/steps/00000000-0000-4000-8000-000000000000');
    expect(options.status).toBe(204);
    expect(options.headers.get('allow')).toBe('PATCH, DELETE, OPTIONS');
    expect((await app.api.request('PUT', '/no-such-route')).status).toBe(404);
    // A path of its own beside a parameter's: not taken for an id (it was a 404 for "template not found").
    const preview = await app.api.request('PATCH', '/templates/preview', { subject: 's', body: 'b' });
    expect([preview.status, preview.headers.get('allow'), preview.body.error.code]).toEqual([405, 'POST, OPTIONS', 'METHOD_NOT_ALLOWED']);
    expect((await app.api.request('OPTIONS', '/workflows/from-template')).headers.get('allow')).toBe('POST, OPTIONS');
    expect((await app.api.request('DELETE', '/workflows/from-template')).status).toBe(405);
    expect((await app.api.post('/templates/preview', { subject: 'Hi {{firstName}}', body: '<p>x</p>', data: { firstName: 'Ada' } })).status).toBe(200);
  });

  it('names each operation by its client method and declares security and errors', () => {
    for (const [name, e] of Object.entries(endpoints)) expect(e.operationId).toBe(name);
    const op = (path: string, method: string) => doc.paths[path]![method]!;
    expect(op('/contacts', 'post').security).toEqual([{ secretKey: [] }]);
    expect(op('/v1/track', 'post').security).toEqual([{ publicKey: [] }, { secretKey: [] }]);
    expect(op('/admin/projects', 'post').security).toEqual([{ adminKey: [] }]);
    expect(op('/healthz', 'get').security).toEqual([]);
    expect(Object.keys(op('/contacts', 'post').responses)).toEqual(['201', '400', '401', '403', '409', '413', '503']);
    expect(Object.keys(op('/v1/track', 'post').responses)).toEqual(['200', '400', '401', '409', '413', '429', '503']);
    expect(Object.keys(op('/workflows/{id}/steps/{stepId}', 'patch').responses)).toEqual(['200', '400', '401', '403', '404', '409', '413', '503']);
    expect(op('/workflows/{id}/steps/{stepId}', 'patch').responses['409']).toEqual({ $ref: '#/components/responses/WorkflowLocked' });
    expect(Object.keys(op('/workflows/{id}/executions', 'post').responses)).toEqual(['201', '400', '401', '403', '404', '409', '413', '503']);
    expect(doc.components.responses.ValidationErrorOrWorkflowDisabled).toMatchObject({ description: 'Bad request: VALIDATION_ERROR, WORKFLOW_DISABLED' });
  });

  it('shows steps as a union by type with a schema per config, and filters as real schemas', () => {
    const schemas = doc.components.schemas as Record<string, { oneOf?: { properties: { type: { const: string }; config: unknown } }[]; anyOf?: unknown[] }>;
    const variants = schemas.Step!.oneOf!;
    expect(variants.map((v) => v.properties.type.const)).toEqual([
      'TRIGGER',
      'SEND_EMAIL',
      'DELAY',
      'WAIT_FOR_EVENT',
      'CONDITION',
      'WEBHOOK',
      'UPDATE_CONTACT',
      'EXIT',
      'SPLIT',
      'TRIGGER_EVENT',
      'START_WORKFLOW',
      'WAIT_UNTIL',
      'SEND_SMS',
    ]);
    expect(variants.find((v) => v.properties.type.const === 'CONDITION')!.properties.config).toEqual({ $ref: '#/components/schemas/Filter' });
    expect(variants.find((v) => v.properties.type.const === 'DELAY')!.properties.config).toEqual({ $ref: '#/components/schemas/DelayConfig' });
    expect(schemas.DelayConfig).toMatchObject({ properties: { unit: { enum: ['minutes', 'hours', 'days', 'weeks'] } }, required: ['amount', 'unit'] });
    expect(schemas.Filter!.anyOf).toEqual([{ $ref: '#/components/schemas/FilterComparison' }, { $ref: '#/components/schemas/FilterTree' }]);
    expect(doc.paths['/workflows/{id}/steps']!.post!.requestBody).toMatchObject({
      content: { 'application/json': { schema: { $ref: '#/components/schemas/StepCreate' } } },
    });
  });

  it('serves the reference page and its assets without a key, from this server only', async () => {
    const page = await fetch(`${app.url}/docs`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await page.text();
    const sources = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(sources.sort()).toEqual([
      '/docs/assets/favicon-32x32.png',
      '/docs/assets/init.js',
      '/docs/assets/swagger-ui-bundle.js',
      '/docs/assets/swagger-ui.css',
    ]);
    for (const src of sources) {
      const asset = await fetch(`${app.url}${src}`);
      expect(asset.status, src).toBe(200);
      expect((await asset.arrayBuffer()).byteLength, src).toBeGreaterThan(100);
    }
    const init = await (await fetch(`${app.url}/docs/assets/init.js`)).text();
    expect(init).toContain("url: '/openapi.json'");
    expect(init).toContain('validatorUrl: null');
    expect((await fetch(`${app.url}/docs/assets/index.html`)).status).toBe(404);
  });
});

describe('the typed client', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(async () => {
    await app?.close();
  });

  it('builds and runs a workflow with typed calls', async () => {
    const trellis = app.api.client;
    const template = await trellis.createTemplate({ body: { name: 'Hi', subject: 'Hi {{email}}', body: '<p>Hello</p>', type: 'TRANSACTIONAL' } });
    const workflow = await trellis.createWorkflow({ body: { name: 'typed', eventName: 'typed.signup' } });
    expect(workflow.version).toBe(1);
    expect(workflow.steps.map((s) => s.type)).toEqual(['TRIGGER']);
    const send = await trellis.createStep({ params: { id: workflow.id }, body: { type: 'SEND_EMAIL', config: { templateId: template.id } } });
    expect(send.type === 'SEND_EMAIL' && send.config.templateId).toBe(template.id);
    await trellis.createTransition({ params: { id: workflow.id }, body: { fromStepId: workflow.steps[0]!.id, toStepId: send.id } });
    const enabled = await trellis.updateWorkflow({ params: { id: workflow.id }, body: { enabled: true } });
    expect(enabled.enabled).toBe(true);

    const tracked = await app.as(app.project.publicKey).client.track({ body: { event: 'typed.signup', email: 'Typed@Example.com' } });
    expect(tracked.success).toBe(true);
    const execution = await onlyFinished(app.api, workflow.id, tracked.data.contact);
    expect(execution.status).toBe('COMPLETED');
    const detail = await trellis.getExecution({ params: { id: workflow.id, executionId: execution.id } });
    expect(detail.steps.map((s) => [s.type, s.status])).toEqual([
      ['TRIGGER', 'COMPLETED'],
      ['SEND_EMAIL', 'COMPLETED'],
    ]);
    const emails = await trellis.listEmails({ query: { executionId: execution.id } });
    expect(emails.data.map((m) => [m.to, m.subject, m.status])).toEqual([['typed@example.com', 'Hi typed@example.com', 'CAPTURED']]);
    expect(await trellis.deleteContact({ params: { id: tracked.data.contact } })).toBeUndefined();
  });

  it('throws the error of SPEC §10 with its status, code and details', async () => {
    const trellis = app.api.client;
    const invalid = await trellis.createContact({ body: { email: 'not an email' } }).catch((e: unknown) => e);
    expect(invalid).toBeInstanceOf(TrellisApiError);
    expect(invalid).toMatchObject({
      status: 400,
      code: 'VALIDATION_ERROR',
      details: [{ path: 'email', message: 'must be an email address (ASCII; write an internationalised domain in punycode)' }],
    });
    const missing = await trellis.getContact({ params: { id: 'not-a-uuid' } }).catch((e: unknown) => e);
    expect(missing).toMatchObject({ status: 404, code: 'NOT_FOUND', message: '404 NOT_FOUND: contact not found' });
    const forbidden = await app
      .as(app.project.publicKey)
      .client.listContacts()
      .catch((e: unknown) => e);
    expect(forbidden).toMatchObject({ status: 403, code: 'FORBIDDEN' });
    expect(await app.as(null).client.healthz()).toEqual({ status: 'ok' });
  });
});

/** The deps of the running test app, to build a second application over them. */
function appDeps(app: TestApp) {
  const t = app.trellis;
  // Never called: the routes are only listed.
  return {
    config: t.config,
    database: t.database,
    temporal: t.client,
    dispatcher: t.dispatcher,
    renderer: createRenderer(),
    logger: t.logger,
    schedules: t.schedules,
    isReady: () => true,
  };
}
