/** The SMTP side of SEND_EMAIL: nodemailer on SMTP_URL, or capture (store, don't send) without one. */
import nodemailer from 'nodemailer';

export interface OutgoingEmail {
  from: string;
  to: string;
  replyTo?: string;
  subject: string;
  html: string;
  text?: string;
  messageId: string;
  headers?: Record<string, string>;
}

export interface Mailer {
  /**
   * Sends one message; throws SmtpError on a refusal or when the attempt outlives its deadline.
   * `signal` aborts the attempt (the SMTP session is closed) and it rejects with the signal's reason.
   */
  send(message: OutgoingEmail, options?: { signal?: AbortSignal }): Promise<{ response: string }>;
  /** The longest one send can take (its deadline). */
  readonly timeoutMs: number;
  close(): void;
}

/** An SMTP refusal or failure; `permanent` for 5xx replies, which retrying cannot fix. */
export class SmtpError extends Error {
  override readonly name = 'SmtpError';
  constructor(
    message: string,
    readonly permanent: boolean,
  ) {
    super(message);
  }
}

/** SMTP_SEND_TIMEOUT_MS's default: the whole of one attempt, from connecting to the server's answer. */
export const DEFAULT_SEND_TIMEOUT_MS = 20_000;

/**
 * A mailer over `smtpUrl`, or undefined in capture mode (no SMTP_URL). Every attempt has a total
 * deadline (`sendTimeoutMs`), below SEND_EMAIL's 30 s start-to-close timeout: an attempt ends (and
 * fails visibly) before Temporal gives up on it and starts another, so two never overlap.
 */
export function createMailer(smtpUrl: string | undefined, options: { sendTimeoutMs?: number } = {}): Mailer | undefined {
  if (!smtpUrl) return undefined;
  const sendTimeoutMs = options.sendTimeoutMs ?? DEFAULT_SEND_TIMEOUT_MS;
  const transport = nodemailer.createTransport({ url: smtpUrl, connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 20_000 });
  return {
    timeoutMs: sendTimeoutMs,
    async send(m, { signal } = {}) {
      const deadline = AbortSignal.timeout(sendTimeoutMs);
      try {
        const info = await transport.sendMail({
          signal: signal ? AbortSignal.any([signal, deadline]) : deadline,
          from: m.from,
          to: m.to,
          replyTo: m.replyTo,
          subject: m.subject,
          html: m.html,
          text: m.text,
          messageId: m.messageId,
          headers: m.headers,
        });
        return { response: String(info.response ?? '') };
      } catch (err) {
        if (signal?.aborted) throw signal.reason;
        if (deadline.aborted) throw new SmtpError(`no answer from the SMTP server within ${sendTimeoutMs / 1000} s`, false);
        const e = err as { responseCode?: number; response?: string; message: string };
        const permanent = typeof e.responseCode === 'number' && e.responseCode >= 500 && e.responseCode < 600;
        throw new SmtpError(e.response ?? e.message, permanent);
      }
    },
    close: () => transport.close(),
  };
}
