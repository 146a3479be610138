/**
 * Secrets sealed with the installation's key (AES-256-GCM), such as an SMS provider's auth token.
 * The key is derived from a random secret created on first use in `instance_secrets` and shared by
 * every process; a sealed value is bound to its purpose and owner, so it cannot be moved elsewhere.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { eq } from 'drizzle-orm';
import type { Database } from './client';
import { instanceSecrets } from './schema';

const SECRET_NAME = 'installation';
const VERSION = 'v1';

const keys = new WeakMap<Database, Promise<Buffer>>();

/** The installation's sealing key (loaded, or created, once per process). */
export function installationKey(database: Database): Promise<Buffer> {
  let key = keys.get(database);
  if (!key) {
    key = loadKey(database);
    keys.set(database, key);
    // A failed load (Postgres down) is not cached: the next call tries again.
    key.catch(() => keys.delete(database));
  }
  return key;
}

/** The random secret `name` of this installation, created on first use and the same for every process. */
export async function instanceSecret({ db }: Database, name: string): Promise<Buffer> {
  // Every process inserts its own candidate; the first insert wins and all read the same row.
  await db
    .insert(instanceSecrets)
    .values({ name, value: randomBytes(32).toString('base64') })
    .onConflictDoNothing();
  const [row] = await db.select({ value: instanceSecrets.value }).from(instanceSecrets).where(eq(instanceSecrets.name, name));
  if (!row) throw new Error(`the installation secret "${name}" could not be read`);
  return Buffer.from(row.value, 'base64');
}

async function loadKey(database: Database): Promise<Buffer> {
  return Buffer.from(hkdfSync('sha256', await instanceSecret(database, SECRET_NAME), Buffer.alloc(0), 'trellis sealed settings v1', 32));
}

/** Encrypts `plaintext` for `owner` (e.g. `sms-token:<project id>`): `v1.<iv>.<tag>.<ciphertext>`, base64url. */
export function seal(key: Buffer, plaintext: string, owner: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(owner));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return [VERSION, iv, cipher.getAuthTag(), body].map((p) => (typeof p === 'string' ? p : p.toString('base64url'))).join('.');
}

/** Decrypts what `seal` made for the same owner; throws when it was altered or sealed for another. */
export function unseal(key: Buffer, sealed: string, owner: string): string {
  const [version, iv, tag, body] = sealed.split('.');
  if (version !== VERSION || !iv || !tag || body === undefined) throw new Error('not a sealed value');
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
  decipher.setAAD(Buffer.from(owner));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
}
