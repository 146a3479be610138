/**
 * Inbound mail (SPEC §8): real messages sent over SMTP to the listener, SPF/DKIM/DMARC checked
 * against DNS records this test serves, `email.received` recorded and the seeds' auto-reply workflow
 * (EVENT email.received → CONDITION event.spamVerdict = PASS → SEND_EMAIL, else flag the contact).
 */
import { generateKeyPairSync } from 'node:crypto';
import nodemailer from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWorkflow, createTemplate, type BuiltWorkflow } from '../support/builders';
import { onlyExecutionIn } from '../support/executions';
import { startTestApp, type Api, type TestApp } from '../support/harness';
import { startSmtp, type TestSmtp } from '../support/smtp';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy';
import { fileDatabaseUrl } from '../support/file-databases';

const DOMAIN = 'inbound.trellis.test';

// A DKIM key of signed.example, published at sel._domainkey.signed.example.
const dkimKey = generateKeyPairSync('rsa', { modulusLength: 2048 });
const dkimPublic = dkimKey.publicKey.export({ type: 'spki', format: 'der' }).toString('base64');

/** TXT records served to the checker; any other name does not exist, and names under silent.example never answer. */
const TXT: Record<string, string> = {
  'good.example': 'v=spf1 ip4:127.0.0.1 -all',
  'forged.example': 'v=spf1 -all',
  'signed.example': 'v=spf1 -all',
  '_dmarc.signed.example': 'v=DMARC1; p=reject',
  'sel._domainkey.signed.example': `v=DKIM1; k=rsa; p=${dkimPublic}`,
  'strict.example': 'v=spf1 -all',
  '_dmarc.strict.example': 'v=DMARC1; p=reject',
};
const asked: string[] = [];
async function resolver(name: string, rrtype: string): Promise<string[][]> {
  asked.push(`${name} ${rrtype}`);
  if (name.endsWith('silent.example')) return new Promise(() => undefined);
  const record = rrtype === 'TXT' ? TXT[name.toLowerCase()] : undefined;
  if (record) return [[record]];
  throw Object.assign(new Error(`query${rrtype} ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
}

/** Sends `mail` to the listener on `port` over SMTP, as another mail server would. */
function sendTo(port: number, mail: Mail, dkim?: SMTPTransport.Options['dkim']): Promise<SMTPTransport.SentMessageInfo> {
  const transport = nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true, name: 'mx.sender.test', dkim });
  return transport.sendMail(mail);
}

/** The `email.received` events of a project, newest first. */
async function received(api: Api): Promise<any[]> {
  const r = await api.get('/events?name=email.received');
  expect(r.status).toBe(200);
  return r.body.data;
}

type Mail = { from: string; to: string | string[]; subject: string; text: string; html?: string; envelope?: { from: string; to: string[] } };

describe('inbound mail', () => {
  let app: TestApp;
  let smtp: TestSmtp;
  let port: number;
  let inbound: string;
  let other: { id: string; api: Api; address: string };
  let autoReply: BuiltWorkflow;

  beforeAll(async () => {
    smtp = await startSmtp();
    app = await startTestApp({
      env: { SMTP_URL: smtp.url, MAIL_FROM: 'Support <support@trellis.test>', INBOUND_SMTP_PORT: '0', INBOUND_DOMAIN: DOMAIN },
      start: { inboundResolver: resolver },
    });
    port = app.trellis.inbound!.port;
    inbound = `${app.project.id}@${DOMAIN}`;
    const second = await app.newProject('no workflows');
    other = { id: second.id, api: second.api, address: (second as unknown as { inboundAddress: string }).inboundAddress };

    const reply = await createTemplate(app.api, {
      subject: 'Re: {{event.subject}}',
      body: '<p>Thanks for writing, we will answer soon.</p>',
      type: 'TRANSACTIONAL',
    });
    autoReply = await buildWorkflow(app.api, {
      name: 'inbound auto-reply',
      eventName: 'email.received',
      steps: [
        { key: 'genuine', type: 'CONDITION', config: { field: 'event.spamVerdict', operator: 'equals', value: 'PASS' } },
        { key: 'reply', type: 'SEND_EMAIL', config: { templateId: reply } },
        { key: 'flag', type: 'UPDATE_CONTACT', config: { data: { flagged: true } } },
      ],
      edges: [
        ['trigger', 'genuine'],
        ['genuine', 'reply', 'yes'],
        ['genuine', 'flag', 'no'],
      ],
    });
  });
  afterAll(async () => {
    await app?.close();
    await smtp?.close();
  });

  /** Sends `mail` to this file's listener. */
  const send = (mail: Mail, dkim?: SMTPTransport.Options['dkim']) => sendTo(port, mail, dkim);

  async function contactByEmail(api: Api, email: string): Promise<any | undefined> {
    const r = await api.get(`/contacts?search=${encodeURIComponent(email)}`);
    return r.body.data.find((c: { email: string }) => c.email === email);
  }

  const path = (execution: any) => execution.steps.map((s: any) => [s.type, s.stepId, s.status]);

  it('gives each project its inbound address on the configured domain', async () => {
    expect(other.address).toBe(`${other.id}@${DOMAIN}`);
  });

  it('answers a message that passes SPF with the auto-reply, sent to the sender', async () => {
    const info = await send({
      from: 'Ada Lovelace <Ada@Good.Example>',
      to: inbound,
      subject: 'Question about pricing',
      text: 'How much is the pro plan?',
      html: '<p>How much is the <b>pro</b> plan?</p>',
    });
    expect(info.accepted).toEqual([inbound]);
    expect(info.response).toMatch(/^250 /);

    // Stored before the 250: the event is there at once.
    const [event] = await received(app.api);
    expect(event.data).toEqual({
      from: 'ada@good.example',
      to: inbound,
      subject: 'Question about pricing',
      text: 'How much is the pro plan?',
      html: '<p>How much is the <b>pro</b> plan?</p>',
      spamVerdict: 'PASS',
      messageId: info.messageId,
    });
    const contact = await contactByEmail(app.api, 'ada@good.example');
    expect(contact).toMatchObject({ id: event.contactId, subscribed: true, data: {} });

    const execution = await onlyExecutionIn(app.api, autoReply.id, contact.id, ['COMPLETED']);
    expect(path(execution)).toEqual([
      ['TRIGGER', autoReply.triggerId, 'COMPLETED'],
      ['CONDITION', autoReply.steps.genuine, 'COMPLETED'],
      ['SEND_EMAIL', autoReply.steps.reply, 'COMPLETED'],
    ]);
    expect(execution.context.spamVerdict).toBe('PASS');
    expect(smtp.messages).toHaveLength(1);
    const replyMail = smtp.messages[0]!;
    expect(replyMail.to).toEqual(['ada@good.example']);
    expect(replyMail.parsed.subject).toBe('Re: Question about pricing');
    expect(replyMail.parsed.from?.value).toEqual([{ name: 'Support', address: 'support@trellis.test' }]);
    expect(asked).toContain('good.example TXT');
  });

  it('sends a message that fails SPF down the "no" branch: flagged, not answered', async () => {
    const info = await send({ from: 'mallory@forged.example', to: inbound, subject: 'You won a prize', text: 'Click here' });
    expect(info.accepted).toEqual([inbound]);

    const [event] = await received(app.api);
    expect(event.data).toMatchObject({ from: 'mallory@forged.example', subject: 'You won a prize', spamVerdict: 'FAIL' });
    const execution = await onlyExecutionIn(app.api, autoReply.id, event.contactId, ['COMPLETED']);
    expect(path(execution)).toEqual([
      ['TRIGGER', autoReply.triggerId, 'COMPLETED'],
      ['CONDITION', autoReply.steps.genuine, 'COMPLETED'],
      ['UPDATE_CONTACT', autoReply.steps.flag, 'COMPLETED'],
    ]);
    expect((await app.api.get(`/contacts/${event.contactId}`)).body.data).toEqual({ flagged: true });
    // Only the first test's reply was ever sent.
    expect(smtp.messages.map((m) => m.parsed.subject)).toEqual(['Re: Question about pricing']);
  });

  it('passes a DKIM-signed message aligned with a DMARC policy although SPF fails', async () => {
    const info = await send(
      { from: 'grace@signed.example', to: other.address, subject: 'Signed', text: 'signed body' },
      { domainName: 'signed.example', keySelector: 'sel', privateKey: dkimKey.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() },
    );
    expect(info.accepted).toEqual([other.address]);
    const [event] = await received(other.api);
    expect(event.data).toMatchObject({ from: 'grace@signed.example', to: other.address, spamVerdict: 'PASS' });
    expect(asked).toContain('sel._domainkey.signed.example TXT');
  });

  it('fails a From address whose DMARC policy is not met, even when the envelope sender passes SPF', async () => {
    const info = await send({
      from: 'ceo@strict.example',
      to: other.address,
      subject: 'Urgent wire transfer',
      text: 'Pay now',
      envelope: { from: 'bounce@good.example', to: [other.address] },
    });
    expect(info.accepted).toEqual([other.address]);
    const [event] = await received(other.api);
    expect(event.data).toMatchObject({ from: 'ceo@strict.example', spamVerdict: 'FAIL' });
  });

  it('counts checks whose DNS never answers as NEUTRAL within 3 s', async () => {
    const started = Date.now();
    const info = await send({ from: 'linus@silent.example', to: other.address, subject: 'No DNS', text: 'hello' });
    const elapsed = Date.now() - started;
    expect(info.accepted).toEqual([other.address]);
    expect(asked).toContain('silent.example TXT');
    // 3 s for the checks, plus a margin for a loaded machine.
    expect(elapsed).toBeLessThan(3000 + 2500);
    const [event] = await received(other.api);
    expect(event.data).toMatchObject({ from: 'linus@silent.example', spamVerdict: 'NEUTRAL' });
  });

  it('takes project addresses in any case, and records the message in the addressed project only', async () => {
    const before = (await received(app.api)).length;
    const upper = `${other.id.toUpperCase()}@${DOMAIN.toUpperCase()}`;
    const info = await send({ from: 'kay@good.example', to: upper, subject: 'Upper case', text: 'hi' });
    // The client lower-cases the domain on its side; the project id stays as written.
    expect(info.accepted).toEqual([`${other.id.toUpperCase()}@${DOMAIN}`]);
    const [event] = await received(other.api);
    expect(event.data).toMatchObject({ from: 'kay@good.example', to: other.address, subject: 'Upper case', spamVerdict: 'PASS' });
    expect(await received(app.api)).toHaveLength(before);
    expect(await contactByEmail(app.api, 'kay@good.example')).toBeUndefined();
  });

  it('records a message delivered twice (a sender retrying after a lost reply) once', async () => {
    const messageId = `<retry-${Date.now()}@good.example>`;
    const mail = { from: 'lee@good.example', to: other.address, subject: 'Twice', text: 'hi', messageId };
    const first = await send(mail);
    const second = await send(mail);
    expect([first.accepted, second.accepted]).toEqual([[other.address], [other.address]]);
    const events = (await received(other.api)).filter((e) => e.data.messageId === messageId);
    expect(events).toHaveLength(1);
  });

  it('refuses mail for an address of no project with 550, and records nothing', async () => {
    const before = { main: (await received(app.api)).length, other: (await received(other.api)).length };
    const nobody = [
      `00000000-0000-4000-8000-000000000000@${DOMAIN}`, // no such project
      `${app.project.id}@elsewhere.test`, // another domain
      `sales@${DOMAIN}`, // not a project id
    ];
    for (const to of nobody) {
      const err = await send({ from: 'eve@good.example', to, subject: 'Hello', text: 'hi' }).then(
        () => undefined,
        (e: Error & { responseCode?: number; code?: string }) => e,
      );
      expect(err?.code, to).toBe('EENVELOPE');
      expect(err?.responseCode, to).toBe(550);
    }

    // With one good recipient among them, only that one is accepted.
    const info = await send({ from: 'eve@good.example', to: [nobody[0]!, other.address], subject: 'Mixed', text: 'hi' });
    expect(info.accepted).toEqual([other.address]);
    expect(info.rejected).toEqual([nobody[0]]);
    expect(info.rejectedErrors?.[0]).toMatchObject({ responseCode: 550 });

    expect(await received(app.api)).toHaveLength(before.main);
    const events = await received(other.api);
    expect(events).toHaveLength(before.other + 1);
    expect(events[0].data).toMatchObject({ subject: 'Mixed', to: other.address });
    expect(await contactByEmail(app.api, 'eve@good.example')).toBeUndefined();
  });

  it('refuses a message over 10 MB with 552, and records nothing', async () => {
    const before = (await received(other.api)).length;
    const err = await send({ from: 'big@good.example', to: other.address, subject: 'Huge', text: 'x'.repeat(11 * 1024 * 1024) }).then(
      () => undefined,
      (e: Error & { responseCode?: number }) => e,
    );
    expect(err?.responseCode).toBe(552);
    expect(await received(other.api)).toHaveLength(before);
  });

  it('keeps email.received for the system: /v1/track cannot record it', async () => {
    const r = await app.api.post('/v1/track', { event: 'email.received', email: 'forger@good.example', data: { spamVerdict: 'PASS' } });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('VALIDATION_ERROR');
    expect(await contactByEmail(app.api, 'forger@good.example')).toBeUndefined();
  });
});

describe('inbound mail while Postgres is unreachable', () => {
  let proxy: TcpProxy;
  let app: TestApp;
  let cutNextCheck = false;

  beforeAll(async () => {
    const url = new URL(fileDatabaseUrl());
    proxy = await startTcpProxy(`${url.hostname}:${url.port || '5432'}`);
    url.host = proxy.address;
    app = await startTestApp({
      // The `api` role runs the listener too.
      env: { ROLE: 'api', DATABASE_URL: url.toString(), INBOUND_SMTP_PORT: '0', INBOUND_DOMAIN: DOMAIN },
      start: {
        // Takes the database away while the message is being checked: after RCPT TO, before the commit.
        inboundResolver: async (name, rrtype) => {
          if (cutNextCheck) {
            cutNextCheck = false;
            proxy.down();
          }
          return resolver(name, rrtype);
        },
      },
    });
  });
  afterAll(async () => {
    proxy?.up();
    await app?.close();
    await proxy?.close();
  });

  it('answers 451 when the message cannot be stored, and 250 once it is, recording it once', async () => {
    const to = `${app.project.id}@${DOMAIN}`;
    const mail = { from: 'ada@good.example', to, subject: 'Retry me', text: 'hello' };
    cutNextCheck = true;
    const err = await sendTo(app.trellis.inbound!.port, mail).then(
      () => undefined,
      (e: Error & { responseCode?: number }) => e,
    );
    expect(err?.responseCode).toBe(451);
    proxy.up();

    // The sending server retries later; this time the message is stored.
    const info = await sendTo(app.trellis.inbound!.port, mail);
    expect(info.accepted).toEqual([to]);
    const events = await received(app.api);
    expect(events).toHaveLength(1);
    expect(events[0].data).toMatchObject({ from: 'ada@good.example', subject: 'Retry me', spamVerdict: 'PASS' });
  });
});
