import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Client as PgClient } from 'pg';
import { inArray } from 'drizzle-orm';
import { outbox } from '../../db/schema';
import { startTestApp, waitFor, type TestApp } from '../support/harness';

describe('the outbox', () => {
  let app: TestApp;
  let other: PgClient;

  beforeAll(async () => {
    app = await startTestApp({ env: { ROLE: 'api' } });
    other = new PgClient({ connectionString: inject('databaseUrl') });
    await other.connect();
  });
  afterAll(async () => {
    await other?.end();
    await app?.close();
  });

  it("carries out one execution's commands in order, even when another process holds the first", async () => {
    const { db } = app.trellis.database;
    const executionId = randomUUID();
    const rows = await db
      .insert(outbox)
      .values([
        { kind: 'start', executionId },
        { kind: 'signal', executionId, payload: { event: { eventId: randomUUID(), name: 'go', data: {} } } },
      ])
      .returning({ id: outbox.id });
    const [head, follower] = rows.map((r) => r.id) as [number, number];

    // Another dispatcher has claimed the start and is still carrying it out.
    await other.query('begin');
    await other.query('select id from outbox where id = $1 for update', [head]);
    app.trellis.dispatcher.kick();
    await new Promise((r) => setTimeout(r, 1500));
    const waiting = await db
      .select({ id: outbox.id })
      .from(outbox)
      .where(inArray(outbox.id, [head, follower]));
    expect(waiting.map((w) => w.id).sort()).toEqual([head, follower].sort());

    // Once it lets go, this dispatcher takes the start, then the signal (both for an execution that
    // no longer exists, so each is dropped).
    await other.query('rollback');
    await waitFor(async () => {
      const left = await db
        .select({ id: outbox.id })
        .from(outbox)
        .where(inArray(outbox.id, [head, follower]));
      return left.length === 0;
    }, 'both commands carried out');
  });
});
