/**
 * The `/v1/track` limit is one token bucket per project in Postgres: two API processes on one
 * database share it, and a refused request says when to retry. The clock is held still, so every
 * count is exact.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
