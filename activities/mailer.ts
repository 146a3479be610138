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
  /** Sends one message; throws SmtpError on a refusal. */
  send(message: OutgoingEmail): Promise<{ response: string }>;
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

/** A mailer over `smtpUrl`, or undefined in capture mode (no SMTP_URL). */
export function createMailer(smtpUrl: string | undefined): Mailer | undefined {
  if (!smtpUrl) return undefined;
  // Bounded well inside SEND_EMAIL's 30 s start-to-close timeout: an attempt must end (and fail
  // visibly) before Temporal gives up on it and starts another, which could send a second copy.
  const transport = nodemailer.createTransport({ url: smtpUrl, connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 20_000 });
  return {
    async send(m) {
      try {
        const info = await transport.sendMail({
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
        const e = err as { responseCode?: number; response?: string; message: string };
        const permanent = typeof e.responseCode === 'number' && e.responseCode >= 500 && e.responseCode < 600;
        throw new SmtpError(e.response ?? e.message, permanent);
      }
    },
    close: () => transport.close(),
  };
}
