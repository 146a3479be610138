import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWorkflow, createTemplate } from '../support/builders';
import { onlyExecutionIn } from '../support/executions';
import { waitFor, type Api } from '../support/harness';
import { linksOf, pathOf } from '../support/mail';
import { startSmtp, type TestSmtp } from '../support/smtp';
import { startSkippingApp, type SkippingApp } from '../support/time-skipping';

// The seeds' re-engagement pattern: a contact leaving the "engaged" segment gets an email, then the
// workflow waits a week for it to be opened and branches on the outcome.
describe('re-engagement on segment exit, on the time-skipping server', () => {
  let app: SkippingApp;
  let smtp: TestSmtp;

  beforeAll(async () => {
    smtp = await startSmtp();
    app = await startSkippingApp({ SMTP_URL: smtp.url });
  });
  afterAll(async () => {
    await app?.close();
    await smtp?.close();
  });

  async function track(api: Api, email: string, status: string): Promise<string> {
    const r = await api.post('/v1/track', { event: 'status_changed', email, data: { status } });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    return r.body.data.contact;
  }

  it('emails each contact that leaves the segment; an open takes the event branch, a week of silence the timeout branch', async () => {
    const { api } = app;
    const segment = await api.post('/segments', {
      name: 'Engaged',
      trackMembership: true,
      filter: { field: 'data.status', operator: 'equals', value: 'active' },
    });
    expect(segment.status).toBe(201);
    await waitFor(async () => (await api.get(`/segments/${segment.body.id}`)).body.computing === false, 'the segment computed');
    const template = await createTemplate(api, { subject: 'We miss you', body: '<html><body><p>Come back?</p></body></html>' });
    const wf = await buildWorkflow(api, {
      name: 're-engagement',
      eventName: 'segment.engaged.exit',
      steps: [
        { key: 'ask', type: 'SEND_EMAIL', config: { templateId: template } },
        { key: 'wait', type: 'WAIT_FOR_EVENT', config: { eventName: 'email.opened', timeout: 7 * 24 * 3600 } },
        { key: 'back', type: 'UPDATE_CONTACT', config: { data: { reengaged: true } } },
        { key: 'lapsed', type: 'UPDATE_CONTACT', config: { data: { reengaged: false } } },
      ],
      edges: [
        ['trigger', 'ask'],
        ['ask', 'wait'],
        ['wait', 'back', 'event'],
        ['wait', 'lapsed', 'timeout'],
      ],
    });

    const opener = await track(api, 'opener@example.com', 'active');
    const silent = await track(api, 'silent@example.com', 'active');
    expect((await api.get(`/segments/${segment.body.id}`)).body.memberCount).toBe(2);
    // Still matching: no exit, no email.
    await track(api, 'opener@example.com', 'active');
    await track(api, 'opener@example.com', 'dormant');
    await track(api, 'silent@example.com', 'dormant');
    expect((await api.get(`/segments/${segment.body.id}`)).body.memberCount).toBe(0);

    const openerWait = await onlyExecutionIn(api, wf.id, opener, ['WAITING']);
    const silentWait = await onlyExecutionIn(api, wf.id, silent, ['WAITING']);
    expect(openerWait.context).toEqual({ segmentId: segment.body.id, segmentName: 'Engaged' });
    expect(silentWait.currentStepId).toBe(wf.steps.wait);
    const mail = await waitFor(async () => smtp.messages.find((m) => m.to.includes('opener@example.com')), 'the email to the opener');
    expect(smtp.messages.map((m) => m.parsed.subject)).toEqual(['We miss you', 'We miss you']);

    const [pixel] = linksOf(String(mail.parsed.html), 't/o');
    expect((await app.as(null).request('GET', pathOf(pixel!))).status).toBe(200);
    const back = await onlyExecutionIn(api, wf.id, opener, ['COMPLETED', 'FAILED']);
    expect(back.steps.map((s: any) => `${s.type}:${s.status}`)).toEqual([
      'TRIGGER:COMPLETED',
      'SEND_EMAIL:COMPLETED',
      'WAIT_FOR_EVENT:COMPLETED',
      'UPDATE_CONTACT:COMPLETED',
    ]);
    expect(back.steps[2].output.outcome).toBe('event');
    expect(back.steps[3].stepId).toBe(wf.steps.back);
    expect((await api.get(`/contacts/${opener}`)).body.data).toEqual({ status: 'dormant', reengaged: true });

    // A week passes in a moment: the silent contact takes the timeout branch.
    await app.env.sleep('7 days');
    const lapsed = await onlyExecutionIn(api, wf.id, silent, ['COMPLETED', 'FAILED']);
    expect(lapsed.steps[2].output).toEqual({ outcome: 'timeout' });
    expect(lapsed.steps[3].stepId).toBe(wf.steps.lapsed);
    expect((await api.get(`/contacts/${silent}`)).body.data).toEqual({ status: 'dormant', reengaged: false });
    expect(smtp.messages).toHaveLength(2);
  });
});
