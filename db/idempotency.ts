/** Idempotency keys of `/v1/track` (SPEC §7.3): kept 24 hours with the answer their first use gave. */
import { and, eq, sql } from 'drizzle-orm';
import type { Tx } from './client';
import { idempotencyKeys } from './schema';

/** What taking a key found: it was free (now taken), or an earlier request holds it. */
export type KeyClaim = { taken: true } | { taken: false; requestHash: string; statusCode: number | null; response: unknown };

/** Takes `key` for a request whose body hashes to `hash`; a concurrent taker blocks until the first commits. */
export async function takeIdempotencyKey(tx: Tx, projectId: string, key: string, hash: string): Promise<KeyClaim | undefined> {
  // Keys are kept 24 h: an older one is forgotten and the key can be used afresh.
  await tx
    .delete(idempotencyKeys)
    .where(and(eq(idempotencyKeys.projectId, projectId), eq(idempotencyKeys.key, key), sql`${idempotencyKeys.createdAt} < now() - interval '24 hours'`));
  const inserted = await tx.insert(idempotencyKeys).values({ projectId, key, requestHash: hash }).onConflictDoNothing().returning();
  if (inserted.length) return { taken: true };
  const [first] = await tx
    .select()
    .from(idempotencyKeys)
    .where(and(eq(idempotencyKeys.projectId, projectId), eq(idempotencyKeys.key, key)));
  return first && { taken: false, requestHash: first.requestHash, statusCode: first.statusCode, response: first.response };
}

/** Keeps the answer the key's first use gave, for its repeats. */
export async function keepIdempotentAnswer(tx: Tx, projectId: string, key: string, answer: { status: number; body: unknown }): Promise<void> {
  await tx
    .update(idempotencyKeys)
    .set({ statusCode: answer.status, response: answer.body })
    .where(and(eq(idempotencyKeys.projectId, projectId), eq(idempotencyKeys.key, key)));
}
