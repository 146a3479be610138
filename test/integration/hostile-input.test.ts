/** The defects a hostile-input probe found, each reproduced through the public API. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWorkflow, createTemplate } from '../support/builders';
import { finishedExecution } from '../support/executions';
import { startTestApp, type Api, type TestApp } from '../support/harness';
import { headerValues } from '../support/mail';
import { startSmtp, type TestSmtp } from '../support/smtp';

describe('hostile input', () => {
  let app: TestApp;
  let api: Api;
  let smtp: TestSmtp;

  beforeAll(async () => {
    smtp = await startSmtp();
    app = await startTestApp({ env: { SMTP_URL: smtp.url } });
    api = app.api;
  });
  afterAll(async () => {
    await app?.close();
    await smtp?.close();
  });

  it('answers a step PATCH with an empty body, or none, with the step unchanged', async () => {
    const wf = await buildWorkflow(api, {
      steps: [{ key: 'wait', type: 'DELAY', config: { amount: 2, unit: 'days' } }],
      edges: [['trigger', 'wait']],
      enabled: false,
    });
    const before = await api.get(`/workflows/${wf.id}`);
    for (const raw of ['{}', '']) {
      const res = await api.request('PATCH', `/workflows/${wf.id}/steps/${wf.steps.wait}`, undefined, { raw });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body).toMatchObject({ id: wf.steps.wait, type: 'DELAY', name: 'wait', config: { amount: 2, unit: 'days' } });
    }
    const after = await api.get(`/workflows/${wf.id}`);
    expect(after.body.version).toBe(before.body.version);
  });

  it('answers 404 NOT_FOUND to a path that does not decode', async () => {
    for (const path of ['/contacts/%ED%A0%80', '/workflows/%E0%A4%A', '/templates/%C0%AF']) {
      const res = await api.get(path);
      expect(res.status, path).toBe(404);
      expect(res.body.error.code).toBe('NOT_FOUND');
    }
  });

  it('accepts punycode addresses and keeps the Kelvin sign from folding into another contact', async () => {
    const idn = await api.post('/contacts', { email: 'Test@XN--E1AFMKFD.xn--p1ai' });
    expect(idn.status, JSON.stringify(idn.body)).toBe(201);
    expect(idn.body.email).toBe('test@xn--e1afmkfd.xn--p1ai');
    const tracked = await api.post('/v1/track', { event: 'visited', email: 'test@xn--e1afmkfd.xn--p1ai' });
    expect(tracked.status).toBe(200);
    expect(tracked.body.data.contact).toBe(idn.body.id);

    const plain = await api.post('/contacts', { email: 'kelvin@example.com' });
    expect(plain.status).toBe(201);
    const kelvin = await api.post('/v1/track', { event: 'visited', email: '\u212Aelvin@example.com' });
    expect(kelvin.status).toBe(400);
    expect(kelvin.body.error.details).toEqual([{ path: 'email', message: expect.stringContaining('email address') }]);
    const created = await api.post('/contacts', { email: '\u212Aelvin@example.com' });
    expect(created.status).toBe(400);
    const events = await api.get(`/events?contactId=${plain.body.id}`);
    expect(events.body.total).toBe(0);
  });

  it('validates a SEND_EMAIL sender as an address, and a display name without line breaks', async () => {
    const templateId = await createTemplate(api, { subject: 'Hi', body: '<p>Hi</p>' });
    const wf = await buildWorkflow(api, { steps: [], edges: [], enabled: false });
    for (const from of ['news@example.com\r\nBcc: all@example.com', 'not an address', 'Ann\r\nBcc: all@example.com <ann@example.com>', 'Ann <ann@example>']) {
      const res = await api.post(`/workflows/${wf.id}/steps`, { type: 'SEND_EMAIL', config: { templateId, from } });
      expect(res.status, from).toBe(400);
      expect(res.body.error.details.map((d: { path: string }) => d.path)).toEqual(['config.from']);
    }
    for (const from of ['News@Example.com', 'The Shop <news@example.com>']) {
      const ok = await api.post(`/workflows/${wf.id}/steps`, { type: 'SEND_EMAIL', config: { templateId, from } });
      expect(ok.status, from).toBe(201);
      expect(ok.body.config.from).toBe(from);
    }

    for (const fromName of ['Shop\r\nBcc: all@example.com', 'Shop\nX', 'Shop\u0000']) {
      const res = await api.post('/templates', { name: 't', subject: 's', body: 'b', from: 'shop@example.com', fromName });
      expect(res.status, JSON.stringify(fromName)).toBe(400);
      expect(res.body.error.details.map((d: { path: string }) => d.path)).toEqual(['fromName']);
    }
    const patched = await api.patch(`/templates/${templateId}`, { fromName: 'Shop\r\nBcc: x' });
    expect(patched.status).toBe(400);
  });

  it("sends from the step's sender, its display name before the template's", async () => {
    const templateId = (
      await api.post('/templates', {
        name: 't',
        subject: 'Hello',
        body: '<p>Hi</p>',
        type: 'TRANSACTIONAL',
        from: 'shop@example.com',
        fromName: 'Template Name',
      })
    ).body.id;
    const cases = [
      { from: 'The Shop <News@Example.com>', sender: { name: 'The Shop', address: 'news@example.com' } },
      { from: 'alerts@example.com', sender: { name: 'Template Name', address: 'alerts@example.com' } },
      { from: undefined, sender: { name: 'Template Name', address: 'shop@example.com' } },
    ];
    for (const [i, c] of cases.entries()) {
      const wf = await buildWorkflow(api, {
        manual: true,
        steps: [{ key: 'send', type: 'SEND_EMAIL', config: { templateId, ...(c.from ? { from: c.from } : {}) } }],
        edges: [['trigger', 'send']],
      });
      const to = `sender-${i}@example.com`;
      const started = await api.post(`/workflows/${wf.id}/executions`, { email: to });
      expect((await finishedExecution(api, wf.id, started.body.id)).status).toBe('COMPLETED');
      const mail = smtp.messages.find((m) => m.to.includes(to))!;
      expect(headerValues(mail.raw, 'From')).toHaveLength(1);
      expect(mail.parsed.from?.value).toEqual([c.sender]);
    }
  });

  it('renders templates off the event loop: six slow previews at once leave /healthz answering at once', async () => {
    const heavy = '{% for a in (1..3000) %}{% for b in (1..3000) %}{% endfor %}{% endfor %}done';
    const templateId = await createTemplate(api, { subject: 'Heavy', body: heavy });
    const previews = Array.from({ length: 6 }, () => api.post(`/templates/${templateId}/preview`, { data: {} }));
    const latencies: number[] = [];
    for (let i = 0; i < 10; i++) {
      const started = performance.now();
      expect((await app.as(null).get('/healthz')).status).toBe(200);
      latencies.push(performance.now() - started);
      await new Promise((r) => setTimeout(r, 50));
    }
    const answers = await Promise.all(previews);
    // Each render finishes (a fast machine does 9 million iterations within the engine's time limit)
    // or stops at that limit, with the template's position.
    for (const answer of answers) {
      if (answer.status === 200) expect(answer.body.text.split('\n')[0]).toBe('done');
      else expect([answer.status, answer.body.error.message]).toEqual([400, 'template does not render: template render limit exceeded (line 1, column 25)']);
    }
    // On the event loop, one such render held every request for seconds; the median allows for a
    // machine busy with the renders themselves.
    latencies.sort((a, b) => a - b);
    expect(latencies[5]!, JSON.stringify(latencies)).toBeLessThan(100);
    expect(latencies[9]!, JSON.stringify(latencies)).toBeLessThan(500);
  }, 60_000);
});
