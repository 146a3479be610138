/**
 * The public links put in emails (SPEC §8): unsubscribe and re-subscribe links, the open pixel and
 * click redirects. Used by SEND_EMAIL (to make them) and by the API (to follow them).
 *
 * Decisions:
 * - A token is `base64url(version ‖ iv ‖ AES-256-GCM(payload) ‖ tag)` over a small JSON payload
 *   (the kind, the contact or email id, the link). GCM authenticates it, so nobody can forge or
 *   alter one (a click token carries its URL: the redirect can only go where the email pointed),
 *   and encrypts it, so a token does not reveal the contact id. The version byte is authenticated
 *   too (AAD) and leaves room for another key or format later.
 * - The key is derived (HKDF-SHA256) from one random secret per installation, kept in Postgres
 *   (`instance_secrets`): the first process to need it inserts it, every process reads the same
 *   row back, and each caches it for its lifetime.
 * - The IV is random: the same link in two emails gets two different tokens.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import type { Database } from '../db/client';
import { instanceSecret } from '../db/installation-key';

/** What a token stands for. */
export type LinkPayload =
  | { kind: 'unsubscribe'; contactId: string }
  | { kind: 'subscribe'; contactId: string }
  | { kind: 'open'; emailId: string }
  | { kind: 'click'; emailId: string; url: string };

/** The URL paths of the public link routes, under PUBLIC_URL. */
export const LINK_PATHS = { unsubscribe: '/unsubscribe/', subscribe: '/subscribe/', open: '/t/o/', click: '/t/c/' } as const;

const SECRET_NAME = 'email-links';
const VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** Longer tokens are refused before any work (a click token holds its URL, so allow long ones). */
const MAX_TOKEN_CHARS = 16_384;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Makes and reads the link tokens of one installation. */
export class EmailLinks {
  constructor(
    private readonly key: Buffer,
    private readonly publicUrl: string,
  ) {}

  unsubscribeUrl(contactId: string): string {
    return this.url('unsubscribe', { kind: 'unsubscribe', contactId });
  }

  subscribeUrl(contactId: string): string {
    return this.url('subscribe', { kind: 'subscribe', contactId });
  }

  openUrl(emailId: string): string {
    return this.url('open', { kind: 'open', emailId });
  }

  clickUrl(emailId: string, url: string): string {
    return this.url('click', { kind: 'click', emailId, url });
  }

  /** The payload of a token, or undefined when it does not verify. */
  read(token: string): LinkPayload | undefined {
    if (token.length > MAX_TOKEN_CHARS || !/^[A-Za-z0-9_-]+$/.test(token)) return undefined;
    const raw = Buffer.from(token, 'base64url');
    // base64url decoding ignores stray trailing bits and characters: only the one canonical
    // spelling of a token is accepted.
    if (raw.toString('base64url') !== token) return undefined;
    if (raw.length < 1 + IV_BYTES + TAG_BYTES + 2 || raw[0] !== VERSION) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(1, 1 + IV_BYTES));
      decipher.setAAD(raw.subarray(0, 1));
      decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
      const plain = Buffer.concat([decipher.update(raw.subarray(1 + IV_BYTES, raw.length - TAG_BYTES)), decipher.final()]);
      return fromWire(JSON.parse(plain.toString('utf8')));
    } catch {
      return undefined;
    }
  }

  private url(kind: keyof typeof LINK_PATHS, payload: LinkPayload): string {
    return `${this.publicUrl}${LINK_PATHS[kind]}${this.seal(payload)}`;
  }

  private seal(payload: LinkPayload): string {
    const version = Buffer.from([VERSION]);
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(version);
    const body = Buffer.concat([cipher.update(JSON.stringify(toWire(payload)), 'utf8'), cipher.final()]);
    return Buffer.concat([version, iv, body, cipher.getAuthTag()]).toString('base64url');
  }
}

/** Short keys keep the tokens short: `k` kind, `c` contact id, `e` email id, `u` URL. */
type Wire = { k: 'u' | 's'; c: string } | { k: 'o'; e: string } | { k: 'c'; e: string; u: string };

function toWire(p: LinkPayload): Wire {
  switch (p.kind) {
    case 'unsubscribe':
      return { k: 'u', c: p.contactId };
    case 'subscribe':
      return { k: 's', c: p.contactId };
    case 'open':
      return { k: 'o', e: p.emailId };
    case 'click':
      return { k: 'c', e: p.emailId, u: p.url };
  }
}

function fromWire(w: unknown): LinkPayload | undefined {
  if (w === null || typeof w !== 'object') return undefined;
  const { k, c, e, u } = w as Record<string, unknown>;
  if ((k === 'u' || k === 's') && typeof c === 'string' && UUID.test(c)) {
    return { kind: k === 'u' ? 'unsubscribe' : 'subscribe', contactId: c };
  }
  if (k === 'o' && typeof e === 'string' && UUID.test(e)) return { kind: 'open', emailId: e };
  if (k === 'c' && typeof e === 'string' && UUID.test(e) && typeof u === 'string') return { kind: 'click', emailId: e, url: u };
  return undefined;
}

const keys = new WeakMap<Database, Promise<Buffer>>();

/** The link maker of this installation (its key is loaded, or created, once per process). */
export async function emailLinks(database: Database, publicUrl: string): Promise<EmailLinks> {
  let key = keys.get(database);
  if (!key) {
    key = loadKey(database);
    keys.set(database, key);
    // A failed load (Postgres down) is not cached: the next call tries again.
    key.catch(() => keys.delete(database));
  }
  return new EmailLinks(await key, publicUrl.replace(/\/+$/, ''));
}

async function loadKey(database: Database): Promise<Buffer> {
  return Buffer.from(hkdfSync('sha256', await instanceSecret(database, SECRET_NAME), Buffer.alloc(0), 'trellis email links v1', 32));
}
