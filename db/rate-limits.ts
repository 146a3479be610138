/** Token buckets in Postgres, so that a limit holds across any number of API processes. */
import { type Db, prepared, runPrepared } from './client';

export type TokenAnswer = { ok: true; taken: number } | { ok: false; retryAfterSeconds: number };

/**
 * takeTokens's statement, prepared (each API process takes a project's tokens in batches, up to
 * fifty times a second, and Postgres planned the statement afresh each time): bucket $1 of
 * capacity $2 (also its tokens a second), up to $3 tokens, at $4 (null: the database's clock).
 */
const take = prepared(
  'rate-limits.take',
  `with t as (select coalesce($4::timestamptz, clock_timestamp()) as now, set_config('synchronous_commit', 'off', true)),
   cur as (select tokens, updated_at from rate_limits where key = $1 for update),
   a as (
     select t.now, exists (select 1 from cur) as existed,
       coalesce((select least($2::float8, cur.tokens + $2::float8 * greatest(0, extract(epoch from t.now - cur.updated_at))) from cur), $2::float8) as available
     from t),
   n as (select a.*, least($3::float8, floor(a.available)) as take from a),
   inserted as (
     insert into rate_limits (key, tokens, updated_at)
     select $1, n.available - n.take, n.now from n where not n.existed and n.take >= 1
     on conflict (key) do nothing
     returning 1),
   updated as (
     update rate_limits r set tokens = n.available - n.take, updated_at = greatest(r.updated_at, n.now)
     from n where r.key = $1 and n.existed and n.take >= 1
     returning 1)
   select n.take::int as take, n.available, n.existed, (exists (select 1 from inserted) or exists (select 1 from updated)) as stored from n`,
);

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
  for (;;) {
    const rows = await runPrepared<{ take: number; available: number; existed: boolean; stored: boolean }>(db, take, [
      key,
      perSecond,
      want,
      at?.toISOString() ?? null,
    ]);
    const row = rows[0]!;
    if (row.stored) return { ok: true, taken: row.take };
    // Another process created the bucket in the same moment: take from the row it stored.
    if (!row.existed && row.take >= 1) continue;
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - row.available) / perSecond)) };
  }
}
