/**
 * The `/v1/track` limit is one token bucket per project in Postgres: two API processes on one
 * database share it, and a refused request says when to retry. The clock is held still, so every
 * count is exact.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LEASE_MS, tokenLeases } from '../../api/rate-limit';
import { takeTokens } from '../../db/rate-limits';
import { startTestApp, type Api, type TestApp } from '../support/harness';

describe('/v1/track rate limit across API processes', () => {
  let now = new Date('2031-03-01T09:00:00.000Z');
  const clock = () => now;
  let first: TestApp;
  let second: TestApp;
  let viaFirst: Api;
  let viaSecond: Api;

  beforeAll(async () => {
    const options = { env: { ROLE: 'api', RATE_LIMIT_TRACK_PER_SECOND: '3' }, start: { clock } };
    [first, second] = await Promise.all([startTestApp(options), startTestApp(options)]);
    viaFirst = first.as(first.project.publicKey);
    viaSecond = second.as(first.project.publicKey);
  });
  afterAll(async () => {
    await first?.close();
    await second?.close();
  });

  const track = (api: Api, i: number) => api.post('/v1/track', { event: 'limited', email: `limit-${i}@example.com` });

  it('allows the limit once across both processes, refuses the rest with Retry-After, and refills with time', async () => {
    const burst = await Promise.all(Array.from({ length: 8 }, (_, i) => track(i % 2 === 0 ? viaFirst : viaSecond, i)));
    expect(burst.filter((a) => a.status === 200)).toHaveLength(3);
    const refused = burst.filter((a) => a.status === 429);
    expect(refused).toHaveLength(5);
    for (const r of refused) {
      expect(r.headers.get('retry-after')).toBe('1');
      expect(r.body).toEqual({ error: { code: 'RATE_LIMITED', message: 'more than 3 events per second', requestId: expect.any(String) } });
    }
    expect((await first.api.get('/events?name=limited')).body.total).toBe(3);

    // Half a second refills one and a half tokens: one request passes, then the next waits a second.
    now = new Date(now.getTime() + 500);
    expect((await track(viaSecond, 100)).status).toBe(200);
    const next = await track(viaFirst, 101);
    expect(next.status).toBe(429);
    expect(next.headers.get('retry-after')).toBe('1');

    // A long pause fills the bucket to its capacity and no further.
    now = new Date(now.getTime() + 60_000);
    const later = await Promise.all(Array.from({ length: 5 }, (_, i) => track(i % 2 === 0 ? viaSecond : viaFirst, 200 + i)));
    expect(later.filter((a) => a.status === 200)).toHaveLength(3);
    expect((await first.api.get('/events?name=limited')).body.total).toBe(7);
  });

  it('keeps one bucket per project', async () => {
    const other = await first.newProject('other');
    const answers = await Promise.all(Array.from({ length: 4 }, (_, i) => track(second.as(other.publicKey), i)));
    expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 200, 429]);
  });
});

describe('batched takes', () => {
  const now = new Date('2031-04-01T09:00:00.000Z');
  const clock = () => now;
  let first: TestApp;
  let second: TestApp;

  beforeAll(async () => {
    // 100 a second: each process takes two tokens at a time (a fiftieth of the limit).
    const options = { env: { ROLE: 'api', RATE_LIMIT_TRACK_PER_SECOND: '100' }, start: { clock } };
    [first, second] = await Promise.all([startTestApp(options), startTestApp(options)]);
  });
  afterAll(async () => {
    await first?.close();
    await second?.close();
  });

  it('takes as many tokens as asked while the bucket holds them, then what is left, then refuses', async () => {
    const db = first.trellis.database.db;
    const key = `test:${randomUUID()}`;
    const at = new Date('2031-04-01T10:00:00.000Z');
    expect(await takeTokens(db, key, 12, 5, at)).toEqual({ ok: true, taken: 5 });
    expect(await takeTokens(db, key, 12, 5, at)).toEqual({ ok: true, taken: 5 });
    expect(await takeTokens(db, key, 12, 5, at)).toEqual({ ok: true, taken: 2 });
    expect(await takeTokens(db, key, 12, 5, at)).toEqual({ ok: false, retryAfterSeconds: 1 });
    // A quarter of a second later the bucket has refilled three tokens.
    expect(await takeTokens(db, key, 12, 5, new Date(at.getTime() + 250))).toEqual({ ok: true, taken: 3 });
  });

  it('takes from a bucket that another process created in the same moment', async () => {
    const { pool, db } = first.trellis.database;
    const key = `test:${randomUUID()}`;
    const at = new Date('2031-04-01T11:00:00.000Z');
    // Another taker has created the bucket (full, at the same moment) and not yet committed.
    const creator = await pool.connect();
    try {
      await creator.query('begin');
      await creator.query('insert into rate_limits (key, tokens, updated_at) values ($1, 10, $2)', [key, at]);
      const takes = Promise.all(Array.from({ length: 12 }, (_, i) => takeTokens(i % 2 ? db : second.trellis.database.db, key, 10, 1, at)));
      // Each take finds no bucket, tries to create it and waits on the creator's row.
      for (;;) {
        const { rows } = await pool.query<{ n: number }>(
          `select count(*)::int as n from pg_stat_activity where wait_event_type = 'Lock' and query like '%rate_limits%' and datname = current_database()`,
        );
        if (rows[0]!.n === 12) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      await creator.query('commit');
      const answers = await takes;
      expect(answers.filter((a) => a.ok)).toHaveLength(10);
      expect(answers.filter((a) => !a.ok)).toEqual([
        { ok: false, retryAfterSeconds: 1 },
        { ok: false, retryAfterSeconds: 1 },
      ]);
    } finally {
      creator.release();
    }
  });

  it('asks Postgres once per batch, and the processes together pass exactly the limit', async () => {
    const project = await first.newProject('batched');
    const via = [first.as(project.publicKey), second.as(project.publicKey)];
    const track = (api: Api, i: number) => api.post('/v1/track', { event: 'batched', email: `batched-${i}@example.com` });
    const bucket = async () =>
      (await first.trellis.database.pool.query<{ tokens: number }>('select tokens from rate_limits where key = $1', [`track:${project.id}`])).rows[0]?.tokens;

    // The first request takes a batch of two from the full bucket and spends one; the second spends the other.
    expect((await track(via[0]!, 0)).status).toBe(200);
    expect(await bucket()).toBe(98);
    expect((await track(via[0]!, 1)).status).toBe(200);
    expect(await bucket()).toBe(98);

    // A burst over both processes, then each process until it refuses (spending what it still holds).
    const burst = await Promise.all(Array.from({ length: 150 }, (_, i) => track(via[i % 2]!, 100 + i)));
    let passed = 2 + burst.filter((a) => a.status === 200).length;
    for (const api of via) {
      for (let i = 0; ; i++) {
        const answer = await track(api, 1000 + i);
        if (answer.status !== 200) {
          expect(answer.status).toBe(429);
          expect(answer.headers.get('retry-after')).toBe('1');
          break;
        }
        passed++;
      }
    }
    expect(passed).toBe(100);
    expect((await first.api.get('/events?name=batched')).body).toMatchObject({ total: 0 });
    expect((await project.api.get('/events?name=batched')).body.total).toBe(100);
  });

  it('takes the next batch ahead while a lease in its second half is spent, so that requests that keep coming never wait for it', async () => {
    const { pool, db } = first.trellis.database;
    const key = `test:${randomUUID()}`;
    let at = 0;
    // 100 a second, in batches of two; the process's own time held by the test.
    const leases = tokenLeases(db, 100, { clock, now: () => at });
    const bucket = async () => (await pool.query<{ tokens: number }>('select tokens from rate_limits where key = $1', [key])).rows[0]?.tokens;
    const until = async (tokens: number) => {
      while ((await bucket()) !== tokens) await new Promise((r) => setTimeout(r, 10));
    };

    // The first take waits for its batch (and spends one of its two tokens).
    expect(await leases.take(key)).toEqual({ ok: true });
    expect(await bucket()).toBe(98);
    // Spent in the lease's first half: nothing taken ahead.
    at = LEASE_MS / 2 - 1;
    expect(await leases.take(key)).toEqual({ ok: true });
    // Empty now: the next request waits for a batch of its own.
    expect(await leases.take(key)).toEqual({ ok: true });
    expect(await bucket()).toBe(96);
    // That lease, spent in its second half, takes the next batch in the background…
    at += LEASE_MS / 2 + 1;
    expect(await leases.take(key)).toEqual({ ok: true });
    await until(94);
    // …which the next requests spend without a take of their own.
    at += 1;
    expect(await leases.take(key)).toEqual({ ok: true });
    expect(await leases.take(key)).toEqual({ ok: true });
    expect(await bucket()).toBe(94);
    // A batch taken ahead and not spent within LEASE_MS is dropped, as a lease's is.
    at += LEASE_MS / 2;
    expect(await leases.take(key)).toEqual({ ok: true });
    expect(await bucket()).toBe(92);
    at += LEASE_MS / 2 + 1;
    expect(await leases.take(key)).toEqual({ ok: true });
    await until(90);
    at += LEASE_MS + 1;
    expect(await leases.take(key)).toEqual({ ok: true });
    expect(await bucket()).toBe(88);
  });
});
