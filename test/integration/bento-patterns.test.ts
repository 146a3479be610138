/**
 * Bento's four automation patterns (seed 003), built with tags, START_WORKFLOW, CONDITION on tags and
 * segment triggers, each in its own project, run on the time-skipping server so that days pass in
 * moments. Every branch of each pattern is taken by some contact.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWorkflow, createTemplate } from '../support/builders';
import { executionIn, finishedExecution } from '../support/executions';
import { waitFor, type Api } from '../support/harness';
import { startHttpServer, type TestHttpServer } from '../support/http-server';
import { startSkippingApp, type SkippingApp } from '../support/time-skipping';

describe("Bento's automation patterns", () => {
  let app: SkippingApp;
  let crm: TestHttpServer;

  beforeAll(async () => {
    crm = await startHttpServer();
    app = await startSkippingApp({ WEBHOOK_ALLOW_PRIVATE: 'true' });
  });
  afterAll(async () => {
    await app?.close();
    await crm?.close();
  });

  /** Tracks `event` for `email` and returns the contact id and its one execution in `workflowId`. */
  async function enter(api: Api, workflowId: string, event: string, email: string, extra: Record<string, unknown> = {}) {
    const tracked = await api.post('/v1/track', { event, email, ...extra });
    expect(tracked.status, JSON.stringify(tracked.body)).toBe(200);
    const contactId = tracked.body.data.contact as string;
    const execution = await waitFor(async () => (await api.get(`/workflows/${workflowId}/executions?contactId=${contactId}`)).body.data[0], 'the execution');
    return { contactId, executionId: execution.id as string };
  }

  const subjects = async (api: Api, contactId: string) =>
    ((await api.get(`/emails?contactId=${contactId}`)).body.data as { subject: string }[]).map((e) => e.subject).reverse();

  /** A one-step "sequence" a START_WORKFLOW adds contacts to; its step notes which one they are in. */
  const sequence = (api: Api, name: string) =>
    buildWorkflow(api, {
      name,
      eventName: `${name}_never_tracked`,
      steps: [{ key: 'note', type: 'UPDATE_CONTACT', config: { data: { [name]: true } } }],
      edges: [['trigger', 'note']],
    });

  it('welcome automation: tags the signup, starts the welcome sequence, and after 14 days the customer or the nurture sequence', async () => {
    const { api } = await app.newProject('welcome automation');
    const welcome = await sequence(api, 'welcomeSeq');
    const customer = await sequence(api, 'customerSeq');
    const nurture = await sequence(api, 'nurtureSeq');
    const wf = await buildWorkflow(api, {
      name: 'Welcome Automation',
      eventName: 'form_submitted',
      steps: [
        { key: 'tag', type: 'UPDATE_CONTACT', config: { addTags: ['subscribed'] } },
        { key: 'welcome', type: 'START_WORKFLOW', config: { workflowId: welcome.id } },
        { key: 'wait', type: 'DELAY', config: { amount: 14, unit: 'days' } },
        { key: 'isCustomer', type: 'CONDITION', config: { field: 'contact.tags', operator: 'contains', value: 'customer' } },
        { key: 'toCustomer', type: 'START_WORKFLOW', config: { workflowId: customer.id } },
        { key: 'toNurture', type: 'START_WORKFLOW', config: { workflowId: nurture.id } },
      ],
      edges: [
        ['trigger', 'tag'],
        ['tag', 'welcome'],
        ['welcome', 'wait'],
        ['wait', 'isCustomer'],
        ['isCustomer', 'toCustomer', 'yes'],
        ['isCustomer', 'toNurture', 'no'],
      ],
    });
    const buyer = await enter(api, wf.id, 'form_submitted', 'buyer@example.com');
    const browser = await enter(api, wf.id, 'form_submitted', 'browser@example.com');
    await executionIn(api, wf.id, buyer.executionId, ['WAITING']);
    await executionIn(api, wf.id, browser.executionId, ['WAITING']);
    // The buyer becomes a customer during the wait.
    expect((await api.post(`/contacts/${buyer.contactId}/tags`, { tags: ['customer'] })).status).toBe(200);

    await app.env.sleep('14 days');
    const bought = await finishedExecution(api, wf.id, buyer.executionId);
    const browsed = await finishedExecution(api, wf.id, browser.executionId);
    expect(bought.steps.map((s: any) => s.stepId).slice(-1)).toEqual([wf.steps.toCustomer]);
    expect(browsed.steps.map((s: any) => s.stepId).slice(-1)).toEqual([wf.steps.toNurture]);
    await waitFor(async () => (await api.get(`/contacts/${browser.contactId}`)).body.data.nurtureSeq === true, 'the nurture sequence');
    await waitFor(async () => (await api.get(`/contacts/${buyer.contactId}`)).body.data.customerSeq === true, 'the customer sequence');
    expect((await api.get(`/contacts/${buyer.contactId}`)).body).toMatchObject({
      tags: ['subscribed', 'customer'],
      data: { welcomeSeq: true, customerSeq: true },
    });
    expect((await api.get(`/contacts/${browser.contactId}`)).body).toMatchObject({ tags: ['subscribed'], data: { welcomeSeq: true, nurtureSeq: true } });
    expect((await api.get(`/contacts/${browser.contactId}`)).body.data.customerSeq).toBeUndefined();
  });

  it('purchase follow-up: thanks, marks the customer, and asks for a review 7 days later', async () => {
    const { api } = await app.newProject('purchase follow-up');
    const thanks = await createTemplate(api, { subject: 'Thank you for your order', body: '<p>thanks</p>', type: 'TRANSACTIONAL' });
    const review = await createTemplate(api, { subject: 'How was {{event.product}}?', body: '<p>review it</p>' });
    const wf = await buildWorkflow(api, {
      name: 'Purchase Follow-up',
      eventName: '$purchase',
      steps: [
        { key: 'thanks', type: 'SEND_EMAIL', config: { templateId: thanks } },
        { key: 'mark', type: 'UPDATE_CONTACT', config: { data: { customer: 'yes' }, addTags: ['customer'] } },
        { key: 'wait', type: 'DELAY', config: { amount: 7, unit: 'days' } },
        { key: 'review', type: 'SEND_EMAIL', config: { templateId: review } },
      ],
      edges: [
        ['trigger', 'thanks'],
        ['thanks', 'mark'],
        ['mark', 'wait'],
        ['wait', 'review'],
      ],
    });
    const { contactId, executionId } = await enter(api, wf.id, '$purchase', 'shopper@example.com', {
      data: { product: { value: 'the teapot', persistent: false } },
    });
    await executionIn(api, wf.id, executionId, ['WAITING']);
    expect(await subjects(api, contactId)).toEqual(['Thank you for your order']);
    expect((await api.get(`/contacts/${contactId}`)).body).toMatchObject({ tags: ['customer'], data: { customer: 'yes' } });

    await app.env.sleep('7 days');
    expect((await finishedExecution(api, wf.id, executionId)).status).toBe('COMPLETED');
    expect(await subjects(api, contactId)).toEqual(['Thank you for your order', 'How was the teapot?']);
  });

  it('cart abandonment: a reminder after an hour and a discount a day later, unless they purchased', async () => {
    const { api } = await app.newProject('cart abandonment');
    const reminder = await createTemplate(api, { subject: 'You left something in your cart', body: '<p>come back</p>' });
    const discount = await createTemplate(api, { subject: '10% off your cart', body: '<p>a discount</p>' });
    const purchased = { field: 'contact.tags', operator: 'contains', value: 'purchased' };
    const wf = await buildWorkflow(api, {
      name: 'Cart Abandonment',
      eventName: 'added_to_cart',
      steps: [
        { key: 'hour', type: 'DELAY', config: { amount: 1, unit: 'hours' } },
        { key: 'bought1', type: 'CONDITION', config: purchased },
        { key: 'remind', type: 'SEND_EMAIL', config: { templateId: reminder } },
        { key: 'day', type: 'DELAY', config: { amount: 1, unit: 'days' } },
        { key: 'bought2', type: 'CONDITION', config: purchased },
        { key: 'discount', type: 'SEND_EMAIL', config: { templateId: discount } },
      ],
      edges: [
        ['trigger', 'hour'],
        ['hour', 'bought1'],
        ['bought1', 'remind', 'no'],
        ['remind', 'day'],
        ['day', 'bought2'],
        ['bought2', 'discount', 'no'],
      ],
    });
    const quick = await enter(api, wf.id, 'added_to_cart', 'quick@example.com');
    const late = await enter(api, wf.id, 'added_to_cart', 'late@example.com');
    const never = await enter(api, wf.id, 'added_to_cart', 'never@example.com');
    for (const c of [quick, late, never]) await executionIn(api, wf.id, c.executionId, ['WAITING']);
    expect((await api.post('/v1/track', { event: 'order_completed', email: 'quick@example.com', tags: ['purchased'] })).status).toBe(200);

    await app.env.sleep('61 minutes');
    expect((await finishedExecution(api, wf.id, quick.executionId)).status).toBe('COMPLETED');
    await waitFor(async () => (await subjects(api, late.contactId)).length === 1, 'the reminder to the late buyer');
    await executionIn(api, wf.id, late.executionId, ['WAITING']);
    await executionIn(api, wf.id, never.executionId, ['WAITING']);
    expect((await api.post('/v1/track', { event: 'order_completed', email: 'late@example.com', tags: ['purchased'] })).status).toBe(200);

    await app.env.sleep('1 day');
    for (const c of [late, never]) expect((await finishedExecution(api, wf.id, c.executionId)).status).toBe('COMPLETED');
    expect(await subjects(api, quick.contactId)).toEqual([]);
    expect(await subjects(api, late.contactId)).toEqual(['You left something in your cart']);
    expect(await subjects(api, never.contactId)).toEqual(['You left something in your cart', '10% off your cart']);
  });

  it('lead scoring response: entering the high-engagement segment tags a hot lead, tells the CRM and notifies', async () => {
    const { api } = await app.newProject('lead scoring');
    const segment = await api.post('/segments', {
      name: 'High engagement',
      slug: 'high-engagement',
      trackMembership: true,
      filter: { field: 'data.engagement', operator: 'greaterThanOrEqual', value: 80 },
    });
    expect(segment.status).toBe(201);
    await waitFor(async () => (await api.get(`/segments/${segment.body.id}`)).body.computing === false, 'the segment computed');
    const notice = await createTemplate(api, { subject: 'Hot lead: {{email}}', body: '<p>call them</p>', type: 'TRANSACTIONAL' });
    const wf = await buildWorkflow(api, {
      name: 'Lead Scoring Response',
      eventName: 'segment.high-engagement.entry',
      steps: [
        { key: 'tag', type: 'UPDATE_CONTACT', config: { addTags: ['hot-lead'] } },
        { key: 'crm', type: 'WEBHOOK', config: { url: `${crm.url}/leads`, body: { email: '{{email}}', score: '{{data.engagement}}' } } },
        { key: 'notify', type: 'SEND_EMAIL', config: { templateId: notice } },
      ],
      edges: [
        ['trigger', 'tag'],
        ['tag', 'crm'],
        ['crm', 'notify'],
      ],
    });
    const hot = await api.post('/v1/track', { event: 'scored', email: 'hot@example.com', data: { engagement: 92 } });
    const cold = await api.post('/v1/track', { event: 'scored', email: 'cold@example.com', data: { engagement: 12 } });

    const execution = await waitFor(async () => (await api.get(`/workflows/${wf.id}/executions`)).body.data[0], 'the hot lead execution');
    expect(execution.contactId).toBe(hot.body.data.contact);
    expect((await finishedExecution(api, wf.id, execution.id)).status).toBe('COMPLETED');
    expect((await api.get(`/contacts/${hot.body.data.contact}`)).body.tags).toEqual(['hot-lead']);
    expect(crm.requests.filter((r) => r.path === '/leads').map((r) => r.json)).toEqual([{ email: 'hot@example.com', score: '92' }]);
    expect(await subjects(api, hot.body.data.contact)).toEqual(['Hot lead: hot@example.com']);
    // The cold lead never entered the segment, so nothing ran for it.
    expect((await api.get(`/contacts/${cold.body.data.contact}`)).body.tags).toEqual([]);
    expect((await api.get(`/workflows/${wf.id}/executions`)).body.total).toBe(1);
  });
});
