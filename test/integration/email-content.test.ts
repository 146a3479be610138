import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWorkflow, createTemplate } from '../support/builders';
import { finishedExecution } from '../support/executions';
import { startTestApp, waitFor, type Api, type TestApp } from '../support/harness';
import { headerNames, headerValues, linksOf, maskTokens, pathOf } from '../support/mail';
import { startSmtp, type ReceivedMail, type TestSmtp } from '../support/smtp';

const FOOTER =
  '<p style="margin:24px 0 0;font-size:12px;line-height:18px;color:#6b7280">' +
  'Don\'t want these emails? <a href="http://trellis.test/unsubscribe/TOKEN" style="color:#6b7280">Unsubscribe</a>.</p>';
const PIXEL = '<img src="http://trellis.test/t/o/TOKEN" width="1" height="1" alt="" style="display:block;width:1px;height:1px;border:0">';

describe('email content: rendering, template types, text part, system event', () => {
  let app: TestApp;
  let smtp: TestSmtp;

  beforeAll(async () => {
    smtp = await startSmtp();
    app = await startTestApp({ env: { SMTP_URL: smtp.url, MAIL_FROM: 'Shop <shop@trellis.test>' } });
  });
  afterAll(async () => {
    await app?.close();
    await smtp?.close();
  });

  /** Starts a MANUAL workflow for a contact and waits until the execution has finished. */
  async function runFor(api: Api, workflowId: string, contactId: string, context: Record<string, unknown> = {}): Promise<any> {
    const started = await api.post(`/workflows/${workflowId}/executions`, { contactId, context });
    expect(started.status, JSON.stringify(started.body)).toBe(201);
    return finishedExecution(api, workflowId, started.body.id);
  }

  async function contact(api: Api, email: string, data: Record<string, unknown> = {}): Promise<string> {
    const r = await api.post('/contacts', { email, data });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    return r.body.id;
  }

  const mailTo = (address: string): ReceivedMail[] => smtp.messages.filter((m) => m.to.includes(address));

  it('MARKETING: renders fallbacks and escaped data, adds the footer, List-Unsubscribe headers, tracking and a text part', async () => {
    const { api } = app;
    const promo = await createTemplate(api, {
      subject: 'Hello {{name ?? "friend"}}, your {{event.plan}} plan',
      body:
        '<html><body><h1>Hi {{name ?? there}}</h1><p>Your note: {{note}}</p>' +
        '<p><a href="https://shop.example/deals?ref=mail&amp;id={{id}}">See the deals</a></p></body></html>',
    });
    const wf = await buildWorkflow(api, {
      name: 'promo',
      manual: true,
      steps: [{ key: 'send', type: 'SEND_EMAIL', config: { templateId: promo } }],
      edges: [['trigger', 'send']],
    });
    const ada = await contact(api, 'ada@example.com', { note: '<script>alert(1)</script>' });

    const execution = await runFor(api, wf.id, ada, { plan: 'pro' });

    expect(execution.status).toBe('COMPLETED');
    const [mail] = mailTo('ada@example.com');
    expect(mailTo('ada@example.com')).toHaveLength(1);
    expect(mail!.parsed.subject).toBe('Hello friend, your pro plan');
    const html = String(mail!.parsed.html);
    expect(html).not.toContain('<script>');
    expect(maskTokens(html)).toBe(
      '<html><body><h1>Hi there</h1><p>Your note: &lt;script&gt;alert(1)&lt;/script&gt;</p>' +
        '<p><a href="http://trellis.test/t/c/TOKEN">See the deals</a></p>' +
        `${FOOTER}${PIXEL}</body></html>`,
    );
    expect(maskTokens(mail!.parsed.text ?? '')).toBe(
      'Hi there\n\nYour note: <script>alert(1)</script>\n\n' +
        `See the deals [https://shop.example/deals?ref=mail&id=${ada}]\n\n` +
        "Don't want these emails? Unsubscribe [http://trellis.test/unsubscribe/TOKEN].",
    );

    // RFC 8058: an https-or-http link in List-Unsubscribe, and one-click POST support.
    const [unsubscribe] = linksOf(html, 'unsubscribe');
    expect(headerValues(mail!.raw, 'List-Unsubscribe')).toEqual([`<${unsubscribe}>`]);
    expect(headerValues(mail!.raw, 'List-Unsubscribe-Post')).toEqual(['List-Unsubscribe=One-Click']);
    expect(linksOf(mail!.parsed.text ?? '', 'unsubscribe')).toEqual([unsubscribe]);

    // The rewritten link leads to exactly the rendered URL.
    const [click] = linksOf(html, 't/c');
    const followed = await app.as(null).request('GET', pathOf(click!));
    expect(followed.status).toBe(302);
    expect(followed.headers.get('location')).toBe(`https://shop.example/deals?ref=mail&id=${ada}`);
  });

  it('never puts a line break from the data into a header; TRANSACTIONAL and HEADLESS carry no footer and no List-Unsubscribe', async () => {
    const { api } = app;
    const receipt = await createTemplate(api, {
      subject: 'Receipt for {{name}}',
      body: '<p>Paid by {{name}}</p><p><a href="https://shop.example/orders/{{event.order}}">Your order</a></p>',
      text: 'Paid by {{name}}: order {{event.order ?? unknown}}',
      type: 'TRANSACTIONAL',
    });
    const note = await createTemplate(api, { subject: 'A note', body: '<p>Just so you know, {{name}}</p>', type: 'HEADLESS' });
    const wf = await buildWorkflow(api, {
      name: 'receipt and note',
      manual: true,
      steps: [
        { key: 'receipt', type: 'SEND_EMAIL', config: { templateId: receipt } },
        { key: 'note', type: 'SEND_EMAIL', config: { templateId: note } },
      ],
      edges: [
        ['trigger', 'receipt'],
        ['receipt', 'note'],
      ],
    });
    const mallory = await contact(api, 'mallory@example.com', { name: 'Mal\r\nBcc: victim@example.com\r\n\r\n<b>x</b>' });

    const execution = await runFor(api, wf.id, mallory, { order: 'A-7' });

    expect(execution.status).toBe('COMPLETED');
    const received = mailTo('mallory@example.com');
    expect(received.map((m) => m.parsed.subject)).toEqual(['Receipt for Mal Bcc: victim@example.com <b>x</b>', 'A note']);
    for (const mail of received) {
      expect(mail.to).toEqual(['mallory@example.com']);
      expect(headerNames(mail.raw).map((h) => h.toLowerCase())).not.toContain('bcc');
      expect(headerValues(mail.raw, 'List-Unsubscribe')).toEqual([]);
      expect(headerValues(mail.raw, 'List-Unsubscribe-Post')).toEqual([]);
    }
    const [sentReceipt, sentNote] = received;
    expect(maskTokens(String(sentReceipt!.parsed.html))).toBe(
      // mailparser gives the parts with \n line ends.
      `<p>Paid by Mal\nBcc: victim@example.com\n\n&lt;b&gt;x&lt;/b&gt;</p><p><a href="http://trellis.test/t/c/TOKEN">Your order</a></p>${PIXEL}`,
    );
    // The template's own text part, rendered as plain text.
    expect(sentReceipt!.parsed.text).toBe('Paid by Mal\nBcc: victim@example.com\n\n<b>x</b>: order A-7');
    expect(maskTokens(String(sentNote!.parsed.html))).toBe(`<p>Just so you know, Mal\nBcc: victim@example.com\n\n&lt;b&gt;x&lt;/b&gt;</p>${PIXEL}`);
    // Generated from the HTML, where line breaks are spaces.
    expect(sentNote!.parsed.text).toBe('Just so you know, Mal Bcc: victim@example.com <b>x</b>');
  });

  it('records email.sent with the email, and a workflow triggered by it runs', async () => {
    // Its own project: the email.sent workflow must not react to the other tests' emails.
    const { api } = await app.newProject('sent events');
    const hello = await createTemplate(api, { subject: 'Hello {{email}}', body: '<p>hi</p>' });
    const sender = await buildWorkflow(api, {
      name: 'sender',
      manual: true,
      steps: [{ key: 'send', type: 'SEND_EMAIL', config: { templateId: hello } }],
      edges: [['trigger', 'send']],
    });
    const follower = await buildWorkflow(api, {
      name: 'after each email',
      eventName: 'email.sent',
      steps: [{ key: 'mark', type: 'UPDATE_CONTACT', config: { data: { lastSubject: '{{event.subject}}', lastEmail: '{{event.emailId}}' } } }],
      edges: [['trigger', 'mark']],
    });
    const grace = await contact(api, 'grace@example.com');

    await runFor(api, sender.id, grace);

    const [email] = (await api.get(`/emails?contactId=${grace}`)).body.data;
    expect(email).toMatchObject({ status: 'SENT', subject: 'Hello grace@example.com', templateId: hello });
    const events = (await api.get(`/events?contactId=${grace}&name=email.sent`)).body;
    expect(events.total).toBe(1);
    expect(events.data[0].data).toEqual({ emailId: email.id, messageId: email.messageId, templateId: hello, subject: 'Hello grace@example.com' });
    const [triggered] = await waitFor(async () => {
      const r = await api.get(`/workflows/${follower.id}/executions?contactId=${grace}&status=COMPLETED`);
      return r.body.total === 1 ? r.body.data : undefined;
    }, 'the email.sent workflow to complete');
    expect(triggered.context).toEqual(events.data[0].data);
    expect((await api.get(`/contacts/${grace}`)).body.data).toEqual({ lastSubject: 'Hello grace@example.com', lastEmail: email.id });
  });

  it('previews a template for a contact or for data, without sending or recording anything', async () => {
    const { api } = app;
    const welcome = await createTemplate(api, {
      subject: 'Welcome {{name ?? "friend"}} to {{event.team}}',
      body: '<p>Hi {{name}} ({{email}}), see <a href="https://docs.example/start">the docs</a>.</p>',
    });
    const receipt = await createTemplate(api, { subject: 'Receipt', body: '<p>{{total}}</p>', text: 'Total: {{total ?? 0}}', type: 'TRANSACTIONAL' });
    const linus = await contact(api, 'linus@example.com', { name: '<Linus>' });
    const sentBefore = smtp.messages.length;

    const forContact = await api.post(`/templates/${welcome}/preview`, { contactId: linus, context: { team: 'Core' } });
    expect(forContact.status, JSON.stringify(forContact.body)).toBe(200);
    expect(Object.keys(forContact.body).sort()).toEqual(['html', 'subject', 'text']);
    expect(forContact.body.subject).toBe('Welcome <Linus> to Core');
    expect(maskTokens(forContact.body.html)).toBe(
      `<p>Hi &lt;Linus&gt; (linus@example.com), see <a href="https://docs.example/start">the docs</a>.</p>${FOOTER}`,
    );
    expect(maskTokens(forContact.body.text)).toBe(
      "Hi <Linus> (linus@example.com), see the docs [https://docs.example/start].\n\nDon't want these emails? Unsubscribe [http://trellis.test/unsubscribe/TOKEN].",
    );

    const forData = await api.post(`/templates/${welcome}/preview`, { data: { email: 'someone@example.com' } });
    expect(forData.status).toBe(200);
    expect(forData.body).toEqual({
      subject: 'Welcome friend to',
      html:
        '<p>Hi  (someone@example.com), see <a href="https://docs.example/start">the docs</a>.</p>' +
        FOOTER.replace('/unsubscribe/TOKEN', '/unsubscribe/preview'),
      text: "Hi (someone@example.com), see the docs [https://docs.example/start].\n\nDon't want these emails? Unsubscribe [http://trellis.test/unsubscribe/preview].",
    });

    const transactional = await api.post(`/templates/${receipt}/preview`, { data: { total: '€12' } });
    expect(transactional.body).toEqual({ subject: 'Receipt', html: '<p>€12</p>', text: 'Total: €12' });

    expect(smtp.messages.length).toBe(sentBefore);
    expect((await api.get(`/emails?contactId=${linus}`)).body.total).toBe(0);
    expect((await api.get(`/events?contactId=${linus}`)).body.total).toBe(0);
  });

  it('answers 404 for an unknown template or contact and 400 for bad input or a template that fails to render', async () => {
    const { api } = app;
    const template = await createTemplate(api, { subject: 'Hi', body: '<p>{{name}}</p>' });
    const looping = await createTemplate(api, { subject: 'Loop', body: '{% for i in (1..100000000) %}x{% endfor %}' });
    const other = await app.newProject('someone else');
    const foreign = await createTemplate(other.api, { subject: 'Theirs', body: '<p>x</p>' });
    const theirContact = await contact(other.api, 'theirs@example.com');
    const missing = '00000000-0000-4000-8000-000000000000';

    const cases: [string, unknown, number, string][] = [
      [`/templates/${missing}/preview`, { data: {} }, 404, 'NOT_FOUND'],
      [`/templates/${foreign}/preview`, { data: {} }, 404, 'NOT_FOUND'],
      ['/templates/not-a-uuid/preview', { data: {} }, 404, 'NOT_FOUND'],
      [`/templates/${template}/preview`, { contactId: missing }, 404, 'NOT_FOUND'],
      [`/templates/${template}/preview`, { contactId: theirContact }, 404, 'NOT_FOUND'],
      [`/templates/${template}/preview`, {}, 400, 'VALIDATION_ERROR'],
      [`/templates/${template}/preview`, { contactId: theirContact, data: {} }, 400, 'VALIDATION_ERROR'],
      [`/templates/${template}/preview`, { contactId: 'nope' }, 400, 'VALIDATION_ERROR'],
      [`/templates/${template}/preview`, { data: [] }, 400, 'VALIDATION_ERROR'],
      [`/templates/${template}/preview`, { data: {}, context: 'x' }, 400, 'VALIDATION_ERROR'],
      [`/templates/${template}/preview`, { data: {}, extra: 1 }, 400, 'VALIDATION_ERROR'],
    ];
    for (const [path, body, status, code] of cases) {
      const r = await api.post(path, body);
      expect([path, body, r.status, r.body?.error?.code]).toEqual([path, body, status, code]);
    }

    const failing = await api.post(`/templates/${looping}/preview`, { data: {} });
    expect(failing.status).toBe(400);
    expect(failing.body.error).toEqual({
      code: 'VALIDATION_ERROR',
      message: 'template does not render: memory alloc limit exceeded (line 1, column 1)',
      requestId: failing.headers.get('x-request-id'),
    });

    const publicKey = await app.as(app.project.publicKey).post(`/templates/${template}/preview`, { data: {} });
    expect(publicKey.status).toBe(403);
    const noKey = await app.as(null).post(`/templates/${template}/preview`, { data: {} });
    expect(noKey.status).toBe(401);
  });
});
