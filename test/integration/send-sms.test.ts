/**
 * SEND_SMS (SPEC §14.2, §14.4) against a real HTTP server speaking the Twilio-compatible API, on the
 * time-skipping server: what is sent and how, every recorded status, retries, quiet hours, /messages.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWorkflow } from '../support/builders';
import { finishedExecution, executionIn } from '../support/executions';
import type { Api } from '../support/harness';
import { startHttpServer, type TestHttpServer } from '../support/http-server';
import { moveClockTo, skipTo, startSkippingApp, type SkippingApp } from '../support/time-skipping';

const SID = 'AC0123456789';
const PATH = `/2010-04-01/Accounts/${SID}/Messages.json`;

describe('SEND_SMS', () => {
  let app: SkippingApp;
  let provider: TestHttpServer;

  beforeAll(async () => {
    provider = await startHttpServer();
    app = await startSkippingApp({ WEBHOOK_ALLOW_PRIVATE: 'true' });
    await app.api.client.updateSettings({ body: { sms: { accountSid: SID, authToken: 'tok-secret', from: '+14155550100', baseUrl: provider.url } } });
  });
  afterAll(async () => {
    await app?.close();
    await provider?.close();
  });

  /** TRIGGER → SEND_SMS → UPDATE_CONTACT, and one execution of it for a new contact. */
  async function textTo(
    contact: { data?: Record<string, unknown>; subscribed?: boolean },
    config: Record<string, unknown> = { body: 'Hi {{firstName}}, your code is {{event.code}}' },
    api: Api = app.api,
  ) {
    const wf = await buildWorkflow(api, {
      manual: true,
      steps: [
        { key: 'text', type: 'SEND_SMS', config },
        { key: 'after', type: 'UPDATE_CONTACT', config: { data: { texted: true } } },
      ],
      edges: [
        ['trigger', 'text'],
        ['text', 'after'],
      ],
    });
    const created = await api.client.createContact({
      body: { email: `sms-${randomUUID()}@example.com`, data: contact.data ?? {}, subscribed: contact.subscribed ?? true },
    });
    const execution = await api.client.startExecution({ params: { id: wf.id }, body: { contactId: created.id, context: { code: '4711' } } });
    const done = await finishedExecution(api, wf.id, execution.id, 30_000);
    return { wf, contactId: created.id, done, executionId: execution.id };
  }

  const smsStep = (done: { steps: { type: string; output: unknown; status: string }[] }) => done.steps.find((s) => s.type === 'SEND_SMS')!;
  const callsTo = (number: string) => provider.requests.filter((r) => r.path === PATH && new URLSearchParams(r.body).get('To') === number);

  it('sends once to the contact’s phone, form-encoded with basic auth, and records it', async () => {
    provider.on(PATH, () => ({ status: 201, body: { sid: 'SM-first', status: 'queued' } }));
    const { done, contactId, executionId } = await textTo({ data: { firstName: 'Ada', phone: '+1 (415) 555-0199' } });
    expect(done.status).toBe('COMPLETED');
    const [call, ...more] = callsTo('+14155550199');
    expect(more).toEqual([]);
    expect(call!.method).toBe('POST');
    expect(call!.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(call!.headers.authorization).toBe(`Basic ${Buffer.from(`${SID}:tok-secret`).toString('base64')}`);
    expect(Object.fromEntries(new URLSearchParams(call!.body))).toEqual({ To: '+14155550199', From: '+14155550100', Body: 'Hi Ada, your code is 4711' });
    const step = smsStep(done);
    expect(step.status).toBe('COMPLETED');
    expect(step.output).toMatchObject({ status: 'SENT', providerId: 'SM-first' });
    const messages = await app.api.client.listMessages({ query: { executionId } });
    expect(messages.total).toBe(1);
    expect(messages.data[0]).toMatchObject({
      contactId,
      executionId,
      to: '+14155550199',
      body: 'Hi Ada, your code is 4711',
      providerId: 'SM-first',
      status: 'SENT',
      error: null,
    });
    expect((step.output as { messageId: string }).messageId).toBe(messages.data[0]!.id);
    // The execution went on to its next step.
    expect(done.steps.map((s: { type: string }) => s.type)).toEqual(['TRIGGER', 'SEND_SMS', 'UPDATE_CONTACT']);
  });

  it('records FAILED "no phone number" without a call, SUPPRESSED for an unsubscribed contact, and goes on', async () => {
    const before = provider.requests.length;
    const noPhone = await textTo({ data: { phone: '555 1234' } });
    expect([noPhone.done.status, smsStep(noPhone.done).output]).toEqual(['COMPLETED', expect.objectContaining({ status: 'FAILED', error: 'no phone number' })]);
    const unsubscribed = await textTo({ data: { phone: '+33 6 12 34 56 78' }, subscribed: false });
    expect([unsubscribed.done.status, smsStep(unsubscribed.done).output]).toEqual(['COMPLETED', expect.objectContaining({ status: 'SUPPRESSED' })]);
    const rows = await app.api.client.listMessages({ query: { contactId: unsubscribed.contactId } });
    expect(rows.data.map((m) => [m.to, m.status])).toEqual([['+33612345678', 'SUPPRESSED']]);
    expect(provider.requests.length).toBe(before);
  });

  it('sends to a rendered `to`, and CAPTURES in a project without a provider', async () => {
    provider.on(PATH, () => ({ status: 201, body: { sid: 'SM-to' } }));
    const custom = await textTo({ data: { mobile: '+44 7700 900123' } }, { body: 'Your van is on its way', to: '{{data.mobile}}' });
    expect(smsStep(custom.done).output).toMatchObject({ status: 'SENT', providerId: 'SM-to' });
    expect(callsTo('+447700900123')).toHaveLength(1);

    const other = await app.newProject('no sms provider');
    const captured = await textTo({ data: { phone: '+14155550111' } }, { body: 'hello' }, other.api);
    expect(smsStep(captured.done).output).toMatchObject({ status: 'CAPTURED' });
    expect(callsTo('+14155550111')).toEqual([]);
  });

  it('records the provider’s 4xx answer as FAILED and goes on', async () => {
    provider.on(PATH, () => ({ status: 400, body: { code: 21211, message: "The 'To' number +14155550122 is not a valid phone number.", status: 400 } }));
    const { done, executionId } = await textTo({ data: { phone: '+14155550122' } });
    expect(done.status).toBe('COMPLETED');
    const error = "provider answered 400: The 'To' number +14155550122 is not a valid phone number. (code 21211)";
    expect(smsStep(done).output).toMatchObject({ status: 'FAILED', error });
    expect((await app.api.client.listMessages({ query: { executionId } })).data.map((m) => [m.status, m.error])).toEqual([['FAILED', error]]);
    expect(callsTo('+14155550122')).toHaveLength(1);
  });

  it('retries 5xx and 429, then sends once; a provider down through every attempt fails the message, not the run', async () => {
    const answers = [500, 429, 201];
    provider.on(PATH, () => {
      const status = answers.shift() ?? 201;
      return { status, body: status === 201 ? { sid: 'SM-retried' } : { message: 'busy' } };
    });
    const retried = await textTo({ data: { phone: '+14155550133' } });
    expect(smsStep(retried.done).output).toMatchObject({ status: 'SENT', providerId: 'SM-retried' });
    expect(callsTo('+14155550133')).toHaveLength(3);
    expect((await app.api.client.listMessages({ query: { executionId: retried.executionId } })).total).toBe(1);

    provider.on(PATH, () => ({ status: 503, body: { message: 'down' } }));
    const down = await textTo({ data: { phone: '+14155550144' } });
    expect(down.done.status).toBe('COMPLETED');
    expect(smsStep(down.done).output).toMatchObject({ status: 'FAILED', error: 'HTTP 503: {"message":"down"} (after 5 attempts)' });
    expect(callsTo('+14155550144')).toHaveLength(5);
  });

  it('holds a text during quiet hours until they end, then sends it', async () => {
    const PARIS = 'Europe/Paris';
    provider.on(PATH, () => ({ status: 201, body: { sid: 'SM-morning' } }));
    await app.api.client.updateSettings({ body: { quietHours: { start: '21:00', end: '08:00' } } });
    await moveClockTo(app.env, '2027-03-02T22:00', PARIS);
    const wf = await buildWorkflow(app.api, {
      manual: true,
      steps: [{ key: 'text', type: 'SEND_SMS', config: { body: 'Good morning' } }],
      edges: [['trigger', 'text']],
    });
    const contact = await app.api.client.createContact({ body: { email: 'paris-sms@example.com', data: { phone: '+33612000000', timezone: PARIS } } });
    const execution = await app.api.client.startExecution({ params: { id: wf.id }, body: { contactId: contact.id } });
    const until = '2027-03-03T07:00:00.000Z'; // 08:00 in Paris
    const held = await executionIn(app.api, wf.id, execution.id, ['WAITING']);
    expect(held.steps[1]).toMatchObject({ type: 'SEND_SMS', status: 'WAITING', output: { heldForQuietHoursUntil: until, zone: PARIS } });
    expect(callsTo('+33612000000')).toEqual([]);

    await skipTo(app.env, until);
    const done = await finishedExecution(app.api, wf.id, execution.id);
    expect(smsStep(done).output).toMatchObject({ status: 'SENT', providerId: 'SM-morning' });
    const history = await app.env.client.workflow.getHandle(`trellis-execution-${execution.id}`).fetchHistory();
    const attempts = (history.events ?? [])
      .filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'sendSms')
      .map((e) => Number(e.eventTime!.seconds) * 1000);
    expect(attempts).toHaveLength(2);
    expect(attempts[1]! - Date.parse(until)).toBeGreaterThanOrEqual(0);
    expect(attempts[1]! - Date.parse(until)).toBeLessThan(10_000);
    expect(callsTo('+33612000000')).toHaveLength(1);
    await app.api.client.updateSettings({ body: { quietHours: null } });
  });

  it('lists messages by contact or execution, and refuses bad filters', async () => {
    const all = await app.api.get('/messages?pageSize=100');
    expect(all.status).toBe(200);
    expect(all.body.total).toBe(all.body.data.length);
    expect(all.body.total).toBeGreaterThanOrEqual(8);
    const bad = await app.api.get('/messages?contactId=nope');
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.map((d: { path: string }) => d.path)).toEqual(['query.contactId']);
    const stranger = await app.newProject('sms stranger');
    expect((await stranger.api.get('/messages')).body.total).toBe(0);
  });
});
