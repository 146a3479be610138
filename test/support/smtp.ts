/** A real SMTP server in the test process that keeps every message it accepts. */
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { simpleParser, type ParsedMail } from 'mailparser';

export interface ReceivedMail {
  from: string;
  to: string[];
  raw: string;
  parsed: ParsedMail;
}

export type BeforeAccept = (mail: ReceivedMail, client: { gone: Promise<void> }) => Promise<void> | void;

export interface TestSmtp {
  url: string;
  port: number;
  messages: ReceivedMail[];
  /** Refuses mail to `address` with this SMTP reply (e.g. 550 permanent, 451 temporary). */
  refuse(address: string, code: number, message: string): void;
  /** Stops refusing mail to `address`. */
  accept(address: string): void;
  /** Calls `hook` after each message is accepted (the test can kill a worker there). */
  onAccepted(hook: ((mail: ReceivedMail) => void) | undefined): void;
  /**
   * Calls `hook` once a message is fully received, before it is accepted: the 250 reply waits for
   * the hook's promise (`client.gone` resolves when the sending client disconnects). A client that
   * disconnects meanwhile never gets its message accepted; the message then lands in `abandoned`,
   * not in `messages`.
   */
  beforeAccept(hook: BeforeAccept | undefined): void;
  /**
   * Stalls on DATA: the next message whose subject is `subject` is received in full and never
   * answered. Resolves once it has arrived, with `dropped`, which resolves when the sending client
   * closes the session (the message then lands in `abandoned`).
   */
  stallOnData(subject: string): Promise<{ mail: ReceivedMail; dropped: Promise<void> }>;
  /** Messages received in full whose client went away before they were accepted. */
  abandoned: ReceivedMail[];
  close(): Promise<void>;
}

/** Starts an SMTP server on a free port of 127.0.0.1. */
export async function startSmtp(options: { port?: number } = {}): Promise<TestSmtp> {
  const messages: ReceivedMail[] = [];
  const refusals = new Map<string, { code: number; message: string }>();
  const abandoned: ReceivedMail[] = [];
  const closedSessions = new Set<string>();
  const goneWaiters = new Map<string, () => void>();
  let hook: ((mail: ReceivedMail) => void) | undefined;
  let holdHook: BeforeAccept | undefined;
  const stalls = new Map<string, (stalled: { mail: ReceivedMail; dropped: Promise<void> }) => void>();
  const gone = (sessionId: string) => (closedSessions.has(sessionId) ? Promise.resolve() : new Promise<void>((resolve) => goneWaiters.set(sessionId, resolve)));
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    // No reverse DNS look-up of each client (the machine's resolver, which may answer late): a session starts at once.
    disableReverseLookup: true,
    logger: false,
    onClose(session) {
      closedSessions.add(session.id);
      goneWaiters.get(session.id)?.();
      goneWaiters.delete(session.id);
    },
    onRcptTo(address, _session, callback) {
      const r = refusals.get(address.address.toLowerCase());
      if (r) {
        const err = new Error(r.message) as Error & { responseCode: number };
        err.responseCode = r.code;
        return callback(err);
      }
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', async () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const mail: ReceivedMail = {
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw,
          parsed: await simpleParser(raw),
        };
        const stall = stalls.get(mail.parsed.subject ?? '');
        if (stall) {
          stalls.delete(mail.parsed.subject ?? '');
          const dropped = gone(session.id);
          stall({ mail, dropped });
          await dropped;
        }
        if (holdHook) await holdHook(mail, { gone: gone(session.id) });
        if (closedSessions.has(session.id)) {
          abandoned.push(mail);
          return;
        }
        messages.push(mail);
        callback();
        hook?.(mail);
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', () => resolve()));
  const port = (server.server.address() as AddressInfo).port;
  return {
    url: `smtp://127.0.0.1:${port}`,
    port,
    messages,
    abandoned,
    refuse: (address, code, message) => refusals.set(address.toLowerCase(), { code, message }),
    accept: (address) => refusals.delete(address.toLowerCase()),
    onAccepted: (h) => {
      hook = h;
    },
    stallOnData: (subject) => new Promise((resolve) => stalls.set(subject, resolve)),
    beforeAccept: (h) => {
      holdHook = h;
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
