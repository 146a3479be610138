/**
 * The inbound SMTP listener (SPEC §8 "Inbound mail"): a mail exchanger for the projects' inbound
 * addresses (`<project id>@$INBOUND_DOMAIN`). It records `email.received` on the sender's contact
 * (created if new) in each addressed project, which enrols EVENT workflows and reaches executions
 * waiting for it.
 *
 * - No AUTH: a mail exchanger takes mail from anyone, for its own addresses only; every other
 *   recipient is refused with 550. No STARTTLS either: it would need a certificate Trellis does not
 *   have, so put a TLS-terminating relay in front when mail must not cross a network in clear.
 * - 250 is answered only after the transaction that stores the events committed, so an accepted
 *   message is never lost; a database failure answers 451 and the sending server retries later.
 */
import type { AddressInfo } from 'node:net';
import { and, eq, sql } from 'drizzle-orm';
import { simpleParser, type AddressObject, type ParsedMail } from 'mailparser';
import { SMTPServer, type SMTPServerSession } from 'smtp-server';
import { isEmailAddress, normalizeEmail } from '../core/email-address';
import type { JsonObject } from '../core/execution';
import type { SpamVerdict } from '../core/spam-verdict';
import type { Database, Tx } from '../db/client';
import { upsertContact } from '../db/contacts';
import { recordEvent } from '../db/events';
import { events, projects } from '../db/schema';
import type { Dispatcher } from '../temporal/dispatcher';
import { checkInbound, type DNSResolver } from './auth';
import type { Logger } from '../telemetry/logger';

/** The largest message accepted; SIZE is advertised and a bigger one is answered 552. */
export const MAX_MESSAGE_BYTES = 10 * 1024 * 1024;
/**
 * `text` and `html` are kept up to this many characters each: the event's data becomes the
 * execution's context, which travels in Temporal payloads (limited to a few MB).
 */
export const MAX_BODY_CHARS = 64 * 1024;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface InboundSmtp {
  port: number;
  close(): Promise<void>;
}

export interface InboundSmtpOptions {
  host: string;
  port: number;
  inboundDomain: string;
  database: Database;
  dispatcher: Dispatcher;
  logger: Logger;
  /** DNS lookups of the SPF/DKIM/DMARC checks (default: the system's resolver). */
  resolver?: DNSResolver;
  /** How long the checks may take before the unfinished ones count as neutral (default 3 s). */
  timeoutMs?: number;
}

/** An SMTP reply carried by an error, as smtp-server expects it. */
function reply(code: number, message: string): Error {
  return Object.assign(new Error(message), { responseCode: code });
}

/** The project id of `address` when it is `<uuid>@<inboundDomain>` (any case), else undefined. */
function projectIdOf(address: string, inboundDomain: string): string | undefined {
  const at = address.lastIndexOf('@');
  if (at < 0) return undefined;
  const local = address.slice(0, at);
  const domain = address.slice(at + 1);
  if (domain.toLowerCase() !== inboundDomain.toLowerCase() || !UUID.test(local)) return undefined;
  return local.toLowerCase();
}

/** The sender's address: the first From address, else the envelope sender; undefined when neither is valid. */
function senderOf(parsed: ParsedMail, session: SMTPServerSession): string | undefined {
  const from = ([] as AddressObject[]).concat(parsed.from ?? []).flatMap((a) => a.value)[0]?.address;
  const envelope = session.envelope.mailFrom ? session.envelope.mailFrom.address : undefined;
  for (const candidate of [from, envelope]) {
    const address = candidate === undefined ? undefined : normalizeEmail(candidate);
    if (address && isEmailAddress(address)) return address;
  }
  return undefined;
}

/** Whether the contact already has an `email.received` with this Message-ID (from the last week). */
async function alreadyReceived(tx: Tx, projectId: string, contactId: string, messageId: string): Promise<boolean> {
  const [row] = await tx
    .select({ id: events.id })
    .from(events)
    .where(
      and(
        eq(events.projectId, projectId),
        eq(events.contactId, contactId),
        eq(events.name, 'email.received'),
        sql`${events.data}->>'messageId' = ${messageId}`,
        sql`${events.createdAt} > now() - interval '7 days'`,
      ),
    )
    .limit(1);
  return row !== undefined;
}

/** Stores `email.received` for the sender in each project, in one transaction. */
async function record(tx: Tx, projectIds: string[], inboundDomain: string, sender: string, parsed: ParsedMail, spamVerdict: SpamVerdict): Promise<void> {
  for (const projectId of projectIds) {
    const [project] = await tx.select({ id: projects.id }).from(projects).where(eq(projects.id, projectId));
    // Deleted between RCPT TO and the end of DATA: nobody to deliver to any more.
    if (!project) continue;
    const { contact, created } = await upsertContact(tx, projectId, sender, {});
    // A sending server that lost our 250 delivers again: the same Message-ID is recorded once.
    if (!created && parsed.messageId && (await alreadyReceived(tx, projectId, contact.id, parsed.messageId))) continue;
    const data: JsonObject = {
      from: sender,
      to: `${projectId}@${inboundDomain}`,
      subject: parsed.subject ?? '',
      text: (parsed.text ?? '').slice(0, MAX_BODY_CHARS),
      html: (parsed.html || '').slice(0, MAX_BODY_CHARS),
      spamVerdict,
      messageId: parsed.messageId ?? null,
    };
    await recordEvent(tx, { projectId, contactId: contact.id, name: 'email.received', data, contactIsNew: created });
  }
}

/** Starts the listener on `host:port` (port 0 picks a free one). */
export async function startInboundSmtp(options: InboundSmtpOptions): Promise<InboundSmtp> {
  const { database, dispatcher, inboundDomain } = options;
  const logger = options.logger.child({ component: 'inbound-smtp' });
  const timeoutMs = options.timeoutMs ?? 3000;

  const server = new SMTPServer({
    name: inboundDomain,
    banner: 'Trellis inbound mail',
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    // The client's reverse DNS name is not used (SPF takes its IP and HELO), and looking it up would
    // delay every connection where DNS is slow or absent.
    disableReverseLookup: true,
    size: MAX_MESSAGE_BYTES,
    rejectOversized: true,
    logger: false,

    onRcptTo(address, _session, callback) {
      const projectId = projectIdOf(address.address, inboundDomain);
      if (!projectId) return callback(reply(550, `5.1.1 <${address.address}>: no such mailbox here`));
      database.db
        .select({ id: projects.id })
        .from(projects)
        .where(eq(projects.id, projectId))
        .then(
          ([project]) => callback(project ? null : reply(550, `5.1.1 <${address.address}>: no such mailbox here`)),
          (err: Error) => {
            logger.error({ err }, 'project look-up failed');
            callback(reply(451, '4.3.0 temporary failure, try again later'));
          },
        );
    },

    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      // Past the size limit the rest is drained, not kept; smtp-server answers 552 (rejectOversized).
      stream.on('data', (chunk: Buffer) => {
        if (!stream.sizeExceeded) chunks.push(chunk);
      });
      stream.on('end', () => {
        if (stream.sizeExceeded) return callback(reply(552, '5.3.4 message exceeds fixed maximum message size'));
        receive(Buffer.concat(chunks), session).then(
          () => callback(null, 'Message accepted'),
          (err: Error) => callback(err),
        );
      });
    },
  });

  async function receive(raw: Buffer, session: SMTPServerSession): Promise<void> {
    const projectIds = [...new Set(session.envelope.rcptTo.map((r) => projectIdOf(r.address, inboundDomain)))].filter((id): id is string => id !== undefined);
    let parsed: ParsedMail;
    try {
      parsed = await simpleParser(raw);
    } catch (err) {
      throw reply(550, `5.6.0 the message could not be parsed: ${(err as Error).message}`);
    }
    const sender = senderOf(parsed, session);
    if (!sender) throw reply(550, '5.1.7 the message has no valid sender address');
    const { verdict } = await checkInbound(
      raw,
      {
        ip: session.remoteAddress,
        helo: session.hostNameAppearsAs || session.remoteAddress,
        sender: session.envelope.mailFrom ? session.envelope.mailFrom.address || undefined : undefined,
      },
      { resolver: options.resolver, timeoutMs, mta: inboundDomain },
    );
    try {
      await database.db.transaction((tx) => record(tx, projectIds, inboundDomain, sender, parsed, verdict));
    } catch (err) {
      logger.error({ err }, 'storing the message failed');
      throw reply(451, '4.3.0 temporary failure, try again later');
    }
    dispatcher.kick();
  }

  server.on('error', (err) => logger.error({ err }, 'listener error'));
  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.server.off('error', reject);
      resolve();
    });
  });
  const port = (server.server.address() as AddressInfo).port;
  return {
    port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
