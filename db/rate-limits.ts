/** Token buckets in Postgres, so that a limit holds across any number of API processes. */
import { sql } from 'drizzle-orm';
import type { Db } from './client';
import { rateLimits } from './schema';

export type TokenAnswer = { ok: true; taken: number } | { ok: false; retryAfterSeconds: number };

/**
 * Takes up to `want` tokens (at least one) from the bucket `key`, which holds at most `perSecond`
 * tokens and gains `perSecond` a second. One statement locks the bucket's row, so concurrent takers
 * queue on it and no two processes spend the same token. Taken: how many, as many as the bucket
 * held up to `want`. Refused: how many whole seconds until a token is back (at least 1). `at` is
 * the moment of the request (default: the database's clock, the one clock all processes share).
 *
 * The statement commits without waiting for its WAL to reach the disk (`synchronous_commit` off for
 * its own implicit transaction): takers queue on the one row, and each would otherwise hold the next
 * behind a disk flush, which caps a project's requests per second at the disk's flushes per second.
 * A crash can forget the last few takes, which only lets a few more requests through.
 */
export async function takeTokens(db: Db, key: string, perSecond: number, want: number, at?: Date): Promise<TokenAnswer> {
  const now = at ? sql`${at.toISOString()}::timestamptz` : sql`clock_timestamp()`;
  const capacity = sql.raw(`${perSecond}::float8`);
  for (;;) {
    const result = await db.execute<{ take: number; available: number; existed: boolean; stored: boolean }>(sql`
      with t as (select ${now} as now, set_config('synchronous_commit', 'off', true)),
      cur as (select tokens, updated_at from ${rateLimits} where key = ${key} for update),
      a as (
        select t.now, exists (select 1 from cur) as existed,
          coalesce((select least(${capacity}, cur.tokens + ${capacity} * greatest(0, extract(epoch from t.now - cur.updated_at))) from cur), ${capacity}) as available
        from t),
      n as (select a.*, least(${want}::float8, floor(a.available)) as take from a),
      inserted as (
        insert into ${rateLimits} (key, tokens, updated_at)
        select ${key}, n.available - n.take, n.now from n where not n.existed and n.take >= 1
        on conflict (key) do nothing
        returning 1),
      updated as (
        update ${rateLimits} r set tokens = n.available - n.take, updated_at = greatest(r.updated_at, n.now)
        from n where r.key = ${key} and n.existed and n.take >= 1
        returning 1)
      select n.take::int as take, n.available, n.existed, (exists (select 1 from inserted) or exists (select 1 from updated)) as stored from n`);
    const row = result.rows[0]!;
    if (row.stored) return { ok: true, taken: row.take };
    // Another process created the bucket in the same moment: take from the row it stored.
    if (!row.existed && row.take >= 1) continue;
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - row.available) / perSecond)) };
  }
}
