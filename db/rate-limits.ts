/** Token buckets in Postgres, so that a limit holds across any number of API processes. */
import { sql } from 'drizzle-orm';
import type { Db } from './client';
import { rateLimits } from './schema';

export type TokenAnswer = { ok: true } | { ok: false; retryAfterSeconds: number };

/**
 * Takes one token from the bucket `key`, which holds at most `perSecond` tokens and gains
 * `perSecond` a second, in one statement: concurrent takers queue on the row, so no two processes
 * spend the same token. Refused: how many whole seconds until a token is back (at least 1). `at` is
 * the moment of the request (default: the database's clock, the one clock all processes share).
 */
export async function takeToken(db: Db, key: string, perSecond: number, at?: Date): Promise<TokenAnswer> {
  const now = at ? sql`${at.toISOString()}::timestamptz` : sql`clock_timestamp()`;
  // The tokens in a bucket row at `now`: what it held, refilled since its last take, up to the capacity.
  const available = (bucket: string, now: string) =>
    sql.raw(`least(${perSecond}::float8, ${bucket}.tokens + ${perSecond}::float8 * greatest(0, extract(epoch from ${now} - ${bucket}.updated_at)))`);
  const result = await db.execute<{ taken: boolean; available: number | null }>(sql`
    with t as (select ${now} as now),
    taken as (
      insert into ${rateLimits} as b (key, tokens, updated_at)
      select ${key}, ${perSecond}::float8 - 1, t.now from t
      on conflict (key) do update set tokens = ${available('b', 'excluded.updated_at')} - 1, updated_at = greatest(b.updated_at, excluded.updated_at)
      where ${available('b', 'excluded.updated_at')} >= 1
      returning 1
    )
    select exists (select 1 from taken) as taken,
      (select ${available('r', 't.now')} from ${rateLimits} r, t where r.key = ${key}) as available`);
  const row = result.rows[0]!;
  if (row.taken) return { ok: true };
  return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - (row.available ?? 0)) / perSecond)) };
}
