/**
 * Email addresses as contacts, senders and reply-to addresses are written (SPEC §5.1).
 *
 * Decisions:
 * - Only ASCII addresses are accepted; an internationalised domain is written in its punycode
 *   form (`xn--…`), which every mail server understands. Unicode is refused rather than folded:
 *   `String.prototype.toLowerCase` maps, for instance, the Kelvin sign (U+212A) to `k`, which would
 *   merge two distinct addresses into one contact.
 * - Normalising is trimming and lower-casing the ASCII letters A–Z, nothing else.
 * - The local part is a dot-atom (RFC 5322 atext, no leading, trailing or doubled dots); the domain
 *   has at least two labels of letters, digits and inner hyphens, and its last label is alphabetic
 *   or a punycode label. Quoted local parts and address literals are refused.
 */
import { z } from 'zod';

const LOCAL = /^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const TOP_LABEL = /^([a-z]{2,63}|xn--[a-z0-9-]{1,59})$/;

/** Trims and lower-cases A–Z only, so that no two distinct addresses normalise to one. */
export function normalizeEmail(email: string): string {
  return email.trim().replace(/[A-Z]+/g, (letters) => letters.toLowerCase());
}

/** Whether a normalised address is one that Trellis accepts (see the decisions above). */
export function isEmailAddress(email: string): boolean {
  if (email.length > 254) return false;
  const at = email.lastIndexOf('@');
  if (at <= 0 || at > 64) return false;
  const local = email.slice(0, at);
  const labels = email.slice(at + 1).split('.');
  return LOCAL.test(local) && labels.length >= 2 && labels.every((l) => LABEL.test(l)) && TOP_LABEL.test(labels[labels.length - 1]!);
}

const ADDRESS_MESSAGE = 'must be an email address (ASCII; write an internationalised domain in punycode)';

/** A zod schema: an address as written by a client, normalised, or refused with one message. */
export const emailAddress = z.string().overwrite(normalizeEmail).refine(isEmailAddress, { message: ADDRESS_MESSAGE });

/** A sender as a SEND_EMAIL step names it: `address` or `Display Name <address>`. */
export interface Sender {
  name?: string;
  address: string;
}

// A display name: printable text without line breaks, quotes or angle brackets.
// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point.
const DISPLAY_NAME = /^[^\u0000-\u001f\u007f"<>\\]{1,200}$/;

/** Reads `address` or `Name <address>`; undefined when it is neither. */
export function parseSender(text: string): Sender | undefined {
  const named = /^\s*([^<]*?)\s*<([^<>]*)>\s*$/.exec(text);
  const name = named ? named[1] : undefined;
  const address = normalizeEmail(named ? named[2]! : text);
  if (!isEmailAddress(address)) return undefined;
  if (name === undefined || name === '') return { address };
  return DISPLAY_NAME.test(name) ? { name, address } : undefined;
}

/** A zod schema for a sender (`address` or `Name <address>`), kept as written. */
export const sender = z
  .string()
  .max(320)
  .refine((s) => parseSender(s) !== undefined, { message: 'must be an email address or "Name <address>", on one line' });
