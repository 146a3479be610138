import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWorkflow, createTemplate } from '../support/builders';
import { onlyExecutionIn } from '../support/executions';
import { startTestApp, waitFor, type Api, type TestApp } from '../support/harness';
import { headerValues, linksOf, pathOf } from '../support/mail';
import { startSmtp, type ReceivedMail, type TestSmtp } from '../support/smtp';

describe('public email links: unsubscribe, re-subscribe, open pixel, click redirects', () => {
  let app: TestApp;
  let smtp: TestSmtp;
  /** No key: the links are public. */
  let visitor: Api;

  beforeAll(async () => {
    smtp = await startSmtp();
    app = await startTestApp({ env: { SMTP_URL: smtp.url } });
    visitor = app.as(null);
  });
  afterAll(async () => {
    await app?.close();
    await smtp?.close();
  });

  async function track(api: Api, event: string, email: string): Promise<string> {
    const r = await api.post('/v1/track', { event, email });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    return r.body.data.contact;
  }

  const mailTo = (address: string, count = 1): Promise<ReceivedMail[]> =>
    waitFor(async () => {
      const found = smtp.messages.filter((m) => m.to.includes(address));
      return found.length >= count ? found : undefined;
    }, `${count} email(s) to ${address}`);

  const eventsOf = async (api: Api, contactId: string, name: string): Promise<any[]> =>
    (await api.get(`/events?contactId=${contactId}&name=${name}`)).body.data;

  const emailsOf = async (api: Api, contactId: string): Promise<any[]> => (await api.get(`/emails?contactId=${contactId}`)).body.data;

  /** A workflow that sends one email of `template` to whoever tracks `event`. */
  async function sender(api: Api, event: string, template: string) {
    return buildWorkflow(api, {
      name: `send on ${event}`,
      eventName: event,
      steps: [{ key: 'send', type: 'SEND_EMAIL', config: { templateId: template } }],
      edges: [['trigger', 'send']],
    });
  }

  it('the List-Unsubscribe link (GET) unsubscribes once, the next marketing email of the running execution is SUPPRESSED, and the page re-subscribes', async () => {
    const { api } = app;
    const first = await createTemplate(api, { subject: 'First offer', body: '<p>one</p>' });
    const second = await createTemplate(api, { subject: 'Second offer', body: '<p>two</p>' });
    const wf = await buildWorkflow(api, {
      name: 'two offers',
      eventName: 'joined',
      steps: [
        { key: 'first', type: 'SEND_EMAIL', config: { templateId: first } },
        { key: 'pause', type: 'WAIT_FOR_EVENT', config: { eventName: 'next_offer' } },
        { key: 'second', type: 'SEND_EMAIL', config: { templateId: second } },
      ],
      edges: [
        ['trigger', 'first'],
        ['first', 'pause'],
        ['pause', 'second'],
      ],
    });
    const contactId = await track(api, 'joined', 'leaver@example.com');
    const [mail] = await mailTo('leaver@example.com');
    const [header] = headerValues(mail!.raw, 'List-Unsubscribe');
    const unsubscribe = /^<(.+)>$/.exec(header!)![1]!;
    expect(linksOf(String(mail!.parsed.html), 'unsubscribe')).toEqual([unsubscribe]);
    await onlyExecutionIn(api, wf.id, contactId, ['WAITING']);

    const page = await visitor.request('GET', pathOf(unsubscribe));
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(page.body).toContain('<h1>You are unsubscribed</h1>');
    expect((await api.get(`/contacts/${contactId}`)).body.subscribed).toBe(false);
    expect(await eventsOf(api, contactId, 'contact.unsubscribed')).toHaveLength(1);

    // Following it again changes nothing.
    expect((await visitor.request('GET', pathOf(unsubscribe))).status).toBe(200);
    expect(await eventsOf(api, contactId, 'contact.unsubscribed')).toHaveLength(1);

    await track(api, 'next_offer', 'leaver@example.com');
    const done = await onlyExecutionIn(api, wf.id, contactId, ['COMPLETED', 'FAILED']);
    expect(done.status).toBe('COMPLETED');
    const emails = await emailsOf(api, contactId);
    expect(emails.map((e) => [e.subject, e.status]).sort()).toEqual([
      ['First offer', 'SENT'],
      ['Second offer', 'SUPPRESSED'],
    ]);
    expect(smtp.messages.filter((m) => m.to.includes('leaver@example.com'))).toHaveLength(1);
    // A suppressed email is not sent: one email.sent only.
    expect((await eventsOf(api, contactId, 'email.sent')).map((e) => e.data.subject)).toEqual(['First offer']);

    // The confirmation page offers the way back.
    const [resubscribe] = linksOf(page.body, 'subscribe');
    const back = await visitor.request('GET', pathOf(resubscribe!));
    expect(back.status).toBe(200);
    expect(back.body).toContain('<h1>You are subscribed</h1>');
    expect((await api.get(`/contacts/${contactId}`)).body.subscribed).toBe(true);
    expect(await eventsOf(api, contactId, 'contact.subscribed')).toHaveLength(1);
  });

  it('one-click unsubscribe (RFC 8058 POST) answers 200, unsubscribes and records contact.unsubscribed', async () => {
    const { api } = app;
    const news = await createTemplate(api, { subject: 'News', body: '<p>news</p>' });
    await sender(api, 'read_news', news);
    const contactId = await track(api, 'read_news', 'oneclick@example.com');
    const [mail] = await mailTo('oneclick@example.com');
    const unsubscribe = /^<(.+)>$/.exec(headerValues(mail!.raw, 'List-Unsubscribe')[0]!)![1]!;

    const r = await visitor.request('POST', pathOf(unsubscribe), undefined, {
      raw: 'List-Unsubscribe=One-Click',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });

    expect(r.status).toBe(200);
    expect((await api.get(`/contacts/${contactId}`)).body.subscribed).toBe(false);
    expect(await eventsOf(api, contactId, 'contact.unsubscribed')).toHaveLength(1);
  });

  it('the open pixel records email.opened on the first fetch only, and a workflow waiting for it takes its event branch', async () => {
    const { api } = app;
    const checkIn = await createTemplate(api, { subject: 'Still there?', body: '<html><body><p>We miss you</p></body></html>' });
    const wf = await buildWorkflow(api, {
      name: 're-engagement',
      eventName: 'went_quiet',
      steps: [
        { key: 'ask', type: 'SEND_EMAIL', config: { templateId: checkIn } },
        { key: 'wait', type: 'WAIT_FOR_EVENT', config: { eventName: 'email.opened', timeout: 120 } },
        { key: 'engaged', type: 'UPDATE_CONTACT', config: { data: { engaged: true, openedEmail: '{{event.emailId}}' } } },
        { key: 'lapsed', type: 'UPDATE_CONTACT', config: { data: { engaged: false } } },
      ],
      edges: [
        ['trigger', 'ask'],
        ['ask', 'wait'],
        ['wait', 'engaged', 'event'],
        ['wait', 'lapsed', 'timeout'],
      ],
    });
    const contactId = await track(api, 'went_quiet', 'opener@example.com');
    const [mail] = await mailTo('opener@example.com');
    const waiting = await onlyExecutionIn(api, wf.id, contactId, ['WAITING']);
    expect(waiting.currentStepId).toBe(wf.steps.wait);
    const [pixel] = linksOf(String(mail!.parsed.html), 't/o');
    const [email] = await emailsOf(api, contactId);
    expect(email.openedAt).toBeNull();

    const opened = await visitor.request('GET', pathOf(pixel!));

    expect(opened.status).toBe(200);
    expect(opened.headers.get('content-type')).toBe('image/gif');
    expect(opened.headers.get('cache-control')).toBe('no-store');
    const [event] = await eventsOf(api, contactId, 'email.opened');
    expect(event.data).toEqual({ emailId: email.id, messageId: email.messageId });
    const openedAt = (await emailsOf(api, contactId))[0].openedAt;
    expect(openedAt).not.toBeNull();

    const done = await onlyExecutionIn(api, wf.id, contactId, ['COMPLETED', 'FAILED']);
    expect(done.steps.map((s: any) => [s.type, s.stepId, s.status])).toEqual([
      ['TRIGGER', wf.triggerId, 'COMPLETED'],
      ['SEND_EMAIL', wf.steps.ask, 'COMPLETED'],
      ['WAIT_FOR_EVENT', wf.steps.wait, 'COMPLETED'],
      ['UPDATE_CONTACT', wf.steps.engaged, 'COMPLETED'],
    ]);
    expect(done.steps[2].output).toEqual({ outcome: 'event', eventId: event.id });
    expect((await api.get(`/contacts/${contactId}`)).body.data).toEqual({ engaged: true, openedEmail: email.id });

    // A second open: the same image, nothing new recorded.
    const again = await visitor.request('GET', pathOf(pixel!));
    expect(again.status).toBe(200);
    expect(await eventsOf(api, contactId, 'email.opened')).toHaveLength(1);
    expect((await emailsOf(api, contactId))[0].openedAt).toBe(openedAt);
  });

  it('click links answer 302 to exactly the original URL, record email.clicked once per link and trigger workflows', async () => {
    // Its own project: the email.clicked workflow must not react to the other tests.
    const { api } = await app.newProject('clicks');
    const offer = await createTemplate(api, {
      subject: 'Offer',
      body:
        '<p><a href="https://shop.example/a?x=1&amp;to={{email}}">Shop</a> ' +
        "<a href='https://shop.example/b/%7Eback#frag'>Back</a> " +
        '<a href="{{unsubscribeUrl}}">Leave</a></p>',
    });
    await sender(api, 'browsed', offer);
    const follow = await buildWorkflow(api, {
      name: 'on click',
      eventName: 'email.clicked',
      steps: [{ key: 'mark', type: 'UPDATE_CONTACT', config: { data: { clicked: '{{event.link}}' } } }],
      edges: [['trigger', 'mark']],
    });
    const contactId = await track(api, 'browsed', 'clicker@example.com');
    const [mail] = await mailTo('clicker@example.com');
    const html = String(mail!.parsed.html);
    const [shop, back] = linksOf(html, 't/c');
    expect(linksOf(html, 't/c')).toHaveLength(2);
    // The unsubscribe link is not rewritten, and there is no second one in a footer.
    expect(linksOf(html, 'unsubscribe')).toHaveLength(1);
    expect(html).toContain(`<a href="${linksOf(html, 'unsubscribe')[0]}">Leave</a>`);
    const [email] = await waitFor(async () => {
      const list = await emailsOf(api, contactId);
      return list.length ? list : undefined;
    }, 'the email record');

    const first = await visitor.request('GET', pathOf(shop!));
    expect(first.status).toBe(302);
    expect(first.headers.get('location')).toBe('https://shop.example/a?x=1&to=clicker@example.com');
    expect(first.headers.get('cache-control')).toBe('no-store');
    const clicks = await eventsOf(api, contactId, 'email.clicked');
    expect(clicks.map((e) => e.data)).toEqual([{ emailId: email.id, messageId: email.messageId, link: 'https://shop.example/a?x=1&to=clicker@example.com' }]);
    const clickedAt = (await emailsOf(api, contactId))[0].clickedAt;
    expect(clickedAt).not.toBeNull();

    // The same link again: the same answer, nothing new.
    const repeat = await visitor.request('GET', pathOf(shop!));
    expect([repeat.status, repeat.headers.get('location')]).toEqual([302, 'https://shop.example/a?x=1&to=clicker@example.com']);
    expect(await eventsOf(api, contactId, 'email.clicked')).toHaveLength(1);

    // Another link: its own first click.
    const other = await visitor.request('GET', pathOf(back!));
    expect([other.status, other.headers.get('location')]).toEqual([302, 'https://shop.example/b/%7Eback#frag']);
    const all = await eventsOf(api, contactId, 'email.clicked');
    expect(all.map((e) => e.data.link)).toEqual(['https://shop.example/b/%7Eback#frag', 'https://shop.example/a?x=1&to=clicker@example.com']);
    const [after] = await emailsOf(api, contactId);
    expect(after.clickedAt).toBe(clickedAt);
    // A click is not an open.
    expect(after.openedAt).toBeNull();

    // The first click started the email.clicked workflow (re-entry is off: once).
    const triggered = await onlyExecutionIn(api, follow.id, contactId, ['COMPLETED', 'FAILED']);
    expect(triggered.status).toBe('COMPLETED');
    expect((await api.get(`/contacts/${contactId}`)).body.data).toEqual({ clicked: 'https://shop.example/a?x=1&to=clicker@example.com' });
  });

  it('a tampered, foreign or misused token answers 404 and records nothing; the redirect goes nowhere but its signed URL', async () => {
    const { api } = app;
    const promo = await createTemplate(api, { subject: 'Promo', body: '<p><a href="https://shop.example/promo">Promo</a></p>' });
    await sender(api, 'eyed_promo', promo);
    const contactId = await track(api, 'eyed_promo', 'probe@example.com');
    const [mail] = await mailTo('probe@example.com');
    const html = String(mail!.parsed.html);
    const [click] = linksOf(html, 't/c');
    const [pixel] = linksOf(html, 't/o');
    const [unsubscribe] = linksOf(html, 'unsubscribe');
    const token = (url: string) => url.slice(url.lastIndexOf('/') + 1);
    /** The token with one character in the middle changed. */
    const tamper = (url: string) => {
      const t = token(url);
      const i = Math.floor(t.length / 2);
      return `${t.slice(0, i)}${t[i] === 'A' ? 'B' : 'A'}${t.slice(i + 1)}`;
    };
    // The send is recorded (with its email.sent) just after the SMTP server accepts it.
    await waitFor(async () => (await eventsOf(api, contactId, 'email.sent')).length === 1, 'email.sent');
    const before = (await api.get(`/events?contactId=${contactId}`)).body.data.map((e: any) => e.name);
    expect(before).toEqual(['email.sent', 'eyed_promo']);

    const attempts: [string, string][] = [
      ['GET', `/t/c/${tamper(click!)}`],
      ['GET', `/t/o/${tamper(pixel!)}`],
      ['GET', `/unsubscribe/${tamper(unsubscribe!)}`],
      ['POST', `/unsubscribe/${tamper(unsubscribe!)}`],
      ['GET', `/subscribe/${tamper(unsubscribe!)}`],
      // Valid tokens on the wrong route.
      ['GET', `/t/c/${token(pixel!)}`],
      ['GET', `/t/o/${token(click!)}`],
      ['GET', `/subscribe/${token(unsubscribe!)}`],
      ['GET', `/unsubscribe/${token(click!)}`],
      // Not tokens at all.
      ['GET', `/t/c/${encodeURIComponent('https://evil.example/')}`],
      ['GET', '/t/c/aHR0cHM6Ly9ldmlsLmV4YW1wbGUv'],
      ['GET', '/unsubscribe/x'],
    ];
    for (const [method, path] of attempts) {
      const r = await visitor.request(method, path);
      expect([method, path, r.status, r.body?.error?.code, r.headers.get('location')]).toEqual([method, path, 404, 'NOT_FOUND', null]);
    }

    expect((await api.get(`/events?contactId=${contactId}`)).body.data.map((e: any) => e.name)).toEqual(before);
    const contact = await api.get(`/contacts/${contactId}`);
    expect(contact.body.subscribed).toBe(true);
    const [email] = await emailsOf(api, contactId);
    expect([email.openedAt, email.clickedAt]).toEqual([null, null]);

    // Extra input cannot steer the redirect.
    const steered = await visitor.request('GET', `${pathOf(click!)}?url=https://evil.example/&next=//evil.example`);
    expect([steered.status, steered.headers.get('location')]).toEqual([302, 'https://shop.example/promo']);
  });
});
