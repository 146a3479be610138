import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWorkflow, createTemplate } from '../support/builders';
import { onlyExecutionIn } from '../support/executions';
import { startTestApp, type TestApp } from '../support/harness';
import { startSmtp, type TestSmtp } from '../support/smtp';

describe('WAIT_FOR_EVENT: re-engagement and cart abandonment', () => {
  let app: TestApp;
  let smtp: TestSmtp;

  beforeAll(async () => {
    smtp = await startSmtp();
    app = await startTestApp({ env: { SMTP_URL: smtp.url } });
  });
  afterAll(async () => {
    await app?.close();
    await smtp?.close();
  });

  async function track(event: string, email: string, data?: Record<string, unknown>) {
    const r = await app.api.post('/v1/track', { event, email, ...(data ? { data } : {}) });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    return r.body.data as { contact: string; event: string };
  }

  const contactData = async (id: string) => (await app.api.get(`/contacts/${id}`)).body.data;

  it('takes the event branch when the event arrives while waiting, and the timeout branch otherwise', async () => {
    const { api } = app;
    const nudge = await createTemplate(api, { subject: 'Still thinking about your {{cartItem}}?', body: '<p>Your {{event.cartItem}} is waiting</p>' });
    const wf = await buildWorkflow(api, {
      name: 'cart abandonment',
      eventName: 'cart_abandoned',
      steps: [
        { key: 'wait', type: 'WAIT_FOR_EVENT', config: { eventName: 'purchased', timeout: 5 } },
        { key: 'thanks', type: 'UPDATE_CONTACT', config: { data: { recovered: true, order: '{{event.orderId}} of {{event.cartItem}}' } } },
        { key: 'nudge', type: 'SEND_EMAIL', config: { templateId: nudge } },
      ],
      edges: [
        ['trigger', 'wait'],
        ['wait', 'thanks', 'event'],
        ['wait', 'nudge', 'timeout'],
      ],
    });

    const buyer = await track('cart_abandoned', 'buyer@example.com', { cartItem: 'shoes' });
    const browser = await track('cart_abandoned', 'browser@example.com', { cartItem: 'hat' });

    // Both wait first.
    for (const contactId of [buyer.contact, browser.contact]) {
      const waiting = await onlyExecutionIn(app.api, wf.id, contactId, ['WAITING']);
      expect(waiting.currentStepId).toBe(wf.steps.wait);
      expect(waiting.steps.map((s: any) => [s.type, s.status])).toEqual([
        ['TRIGGER', 'COMPLETED'],
        ['WAIT_FOR_EVENT', 'WAITING'],
      ]);
    }

    // The buyer purchases while waiting: the event branch, with the event's data merged into the context.
    const purchase = await track('purchased', 'buyer@example.com', { orderId: 'P-1', cartItem: 'boots' });
    const bought = await onlyExecutionIn(app.api, wf.id, buyer.contact, ['COMPLETED', 'FAILED']);
    expect(bought.status).toBe('COMPLETED');
    expect(bought.context).toEqual({ cartItem: 'boots', orderId: 'P-1' });
    expect(bought.steps.map((s: any) => [s.type, s.stepId, s.status])).toEqual([
      ['TRIGGER', wf.triggerId, 'COMPLETED'],
      ['WAIT_FOR_EVENT', wf.steps.wait, 'COMPLETED'],
      ['UPDATE_CONTACT', wf.steps.thanks, 'COMPLETED'],
    ]);
    expect(bought.steps[1].output).toEqual({ outcome: 'event', eventId: purchase.event });
    expect(await contactData(buyer.contact)).toEqual({ cartItem: 'boots', orderId: 'P-1', recovered: true, order: 'P-1 of boots' });

    // The browser never purchases: the timeout branch sends the reminder.
    const lapsed = await onlyExecutionIn(app.api, wf.id, browser.contact, ['COMPLETED', 'FAILED']);
    expect(lapsed.status).toBe('COMPLETED');
    expect(lapsed.context).toEqual({ cartItem: 'hat' });
    expect(lapsed.steps.map((s: any) => [s.type, s.stepId, s.status])).toEqual([
      ['TRIGGER', wf.triggerId, 'COMPLETED'],
      ['WAIT_FOR_EVENT', wf.steps.wait, 'COMPLETED'],
      ['SEND_EMAIL', wf.steps.nudge, 'COMPLETED'],
    ]);
    expect(lapsed.steps[1].output).toEqual({ outcome: 'timeout' });
    expect(await contactData(browser.contact)).toEqual({ cartItem: 'hat' });

    expect(smtp.messages.map((m) => [m.to, m.parsed.subject])).toEqual([[['browser@example.com'], 'Still thinking about your hat?']]);
    expect(smtp.messages[0]!.parsed.html).toContain('<p>Your hat is waiting</p>');
  });

  it('does not take an event tracked before the wait started', async () => {
    const wf = await buildWorkflow(app.api, {
      name: 'checkout follow-up',
      eventName: 'checkout_opened',
      steps: [
        { key: 'paying', type: 'WAIT_FOR_EVENT', config: { eventName: 'payment_started', timeout: 60 } },
        { key: 'bought', type: 'WAIT_FOR_EVENT', config: { eventName: 'purchased', timeout: 2 } },
        { key: 'won', type: 'UPDATE_CONTACT', config: { data: { outcome: 'purchased' } } },
        { key: 'lost', type: 'UPDATE_CONTACT', config: { data: { outcome: 'lost' } } },
      ],
      edges: [
        ['trigger', 'paying'],
        ['paying', 'bought'],
        ['bought', 'won', 'event'],
        ['bought', 'lost', 'timeout'],
      ],
    });

    // Before the execution exists…
    const early = await track('purchased', 'early@example.com', { orderId: 'E-0' });
    const opened = await track('checkout_opened', 'early@example.com');
    await onlyExecutionIn(app.api, wf.id, opened.contact, ['WAITING']);
    // …and while it waits for something else: not delivered, since no wait for it is open.
    await track('purchased', 'early@example.com', { orderId: 'E-1' });
    await app.trellis.dispatcher.drain();
    await track('payment_started', 'early@example.com', { method: 'card' });

    const done = await onlyExecutionIn(app.api, wf.id, opened.contact, ['COMPLETED', 'FAILED']);
    expect(done.status).toBe('COMPLETED');
    expect(done.context).toEqual({ method: 'card' });
    expect(done.steps.map((s: any) => [s.type, s.stepId, s.status])).toEqual([
      ['TRIGGER', wf.triggerId, 'COMPLETED'],
      ['WAIT_FOR_EVENT', wf.steps.paying, 'COMPLETED'],
      ['WAIT_FOR_EVENT', wf.steps.bought, 'COMPLETED'],
      ['UPDATE_CONTACT', wf.steps.lost, 'COMPLETED'],
    ]);
    expect(done.steps[1].output).toMatchObject({ outcome: 'event' });
    expect(done.steps[1].output.eventId).not.toBe(early.event);
    expect(done.steps[2].output).toEqual({ outcome: 'timeout' });
    expect((await contactData(opened.contact)).outcome).toBe('lost');

    // Only the awaited event reached the Temporal workflow: the second `purchased` came while it waited for something else.
    const history = await app.trellis.client.workflow.getHandle(`trellis-execution-${done.id}`).fetchHistory();
    const signals = (history.events ?? []).filter((e) => e.workflowExecutionSignaledEventAttributes);
    expect(signals).toHaveLength(1);
  });

  it('follows a single unbranched transition on both outcomes', async () => {
    const wf = await buildWorkflow(app.api, {
      name: 'trial follow-up',
      eventName: 'trial_ended',
      steps: [
        { key: 'wait', type: 'WAIT_FOR_EVENT', config: { eventName: 'upgraded', timeout: 3 } },
        { key: 'note', type: 'UPDATE_CONTACT', config: { data: { followedUp: '{{event.plan ?? none}}' } } },
      ],
      edges: [
        ['trigger', 'wait'],
        ['wait', 'note'],
      ],
    });

    const upgrader = await track('trial_ended', 'upgrader@example.com');
    const leaver = await track('trial_ended', 'leaver@example.com');
    await onlyExecutionIn(app.api, wf.id, upgrader.contact, ['WAITING']);
    await onlyExecutionIn(app.api, wf.id, leaver.contact, ['WAITING']);
    await track('upgraded', 'upgrader@example.com', { plan: { value: 'team', persistent: false } });

    const upgraded = await onlyExecutionIn(app.api, wf.id, upgrader.contact, ['COMPLETED', 'FAILED']);
    const left = await onlyExecutionIn(app.api, wf.id, leaver.contact, ['COMPLETED', 'FAILED']);
    for (const [execution, outcome] of [
      [upgraded, 'event'],
      [left, 'timeout'],
    ] as const) {
      expect(execution.status).toBe('COMPLETED');
      expect(execution.steps.map((s: any) => [s.type, s.stepId, s.status])).toEqual([
        ['TRIGGER', wf.triggerId, 'COMPLETED'],
        ['WAIT_FOR_EVENT', wf.steps.wait, 'COMPLETED'],
        ['UPDATE_CONTACT', wf.steps.note, 'COMPLETED'],
      ]);
      expect(execution.steps[1].output.outcome).toBe(outcome);
    }
    expect(await contactData(upgrader.contact)).toEqual({ followedUp: 'team' });
    expect(await contactData(leaver.contact)).toEqual({ followedUp: 'none' });
  });
});
