/**
 * The outbox's cancel lane, at the level of its claim: at most a window of cancels is leased at
 * once, each holding its place until its run acknowledges it (or its lease runs out), and the
 * commands queued after a cancel-all's cancels are claimed beside them. A database of the file's
 * own, with no dispatcher, so that every claim here is the test's.
 */
import { randomUUID } from 'node:crypto';
import { and, eq, ne } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, openDatabase } from '../../db/client';
import { runMigrations } from '../../db/migrate';
import { acknowledgeCancel, cancelRequested, claimCommands, expediteCancel, markCancelsRequested } from '../../db/outbox';
import { cancelExecutions } from '../../db/cancel';
import { executions, outbox } from '../../db/schema';
import { privateDatabase } from '../support/audience';
import type { ScratchDatabase } from '../../scripts/local-servers';
import { waitFor } from '../support/harness';

const WINDOW = { window: 20, holdSeconds: 10 };

describe("the outbox's cancel window", () => {
  let scratch: ScratchDatabase;
  let database: Database;

  beforeAll(async () => {
    scratch = await privateDatabase();
    await runMigrations(scratch.url);
    database = openDatabase(scratch.url);
  });
  afterAll(async () => {
    await database?.close();
    await scratch?.drop();
  });

  it('leases at most the window of cancels, claims the commands queued behind them, and frees a place per acknowledgement', async () => {
    const { db } = database;
    await db.delete(outbox);
    const cancelled = Array.from({ length: 50 }, () => randomUUID());
    await db.insert(outbox).values(cancelled.map((executionId) => ({ kind: 'cancel', executionId })));
    // Queued after the cancel-all: a start and a signal of other executions.
    const later = [randomUUID(), randomUUID()];
    await db.insert(outbox).values([
      { kind: 'start', executionId: later[0]! },
      { kind: 'signal', executionId: later[1]!, payload: { event: { eventId: randomUUID(), name: 'go', data: {} } } },
    ]);

    const first = await claimCommands(db, 200, 60, WINDOW);
    const firstCancels = first.filter((c) => c.kind === 'cancel');
    expect(firstCancels.map((c) => c.executionId).sort()).toEqual(cancelled.slice(0, WINDOW.window).sort());
    expect(
      first
        .filter((c) => c.kind !== 'cancel')
        .map((c) => c.executionId)
        .sort(),
    ).toEqual([...later].sort());
    expect(firstCancels.some(cancelRequested)).toBe(false);
    // Temporal accepted them; the window is full while they await their runs.
    await markCancelsRequested(
      db,
      firstCancels.map((c) => c.id),
    );
    expect(await claimCommands(db, 200, 60, WINDOW)).toEqual([]);

    // A run that recorded its cancellation frees one place: the next cancel in line takes it.
    expect(await acknowledgeCancel(db, cancelled[0]!)).toBe(true);
    expect(await acknowledgeCancel(db, cancelled[0]!)).toBe(false);
    expect(await acknowledgeCancel(db, randomUUID())).toBe(false);
    const next = await claimCommands(db, 200, 60, WINDOW);
    expect(next.map((c) => c.executionId)).toEqual([cancelled[WINDOW.window]]);

    // An acknowledgement also removes a cancel still queued: its run is closing anyway.
    expect(await acknowledgeCancel(db, cancelled[49]!)).toBe(true);
    const left = await db.select({ executionId: outbox.executionId }).from(outbox);
    expect(left.length).toBe(50 - 2 + later.length);
    expect(left.map((r) => r.executionId)).not.toContain(cancelled[49]);
  });

  it("queues a cancel of a few executions ahead of a cancel-all's", async () => {
    const { db } = database;
    await db.delete(outbox);
    const { rows } = await database.pool.query<{ project: string; workflow: string }>(`
      with p as (insert into projects (name, public_key, secret_key_hash) values ('lanes', 'pk_' || gen_random_uuid(), 'x') returning id),
           w as (insert into workflows (project_id, name, trigger_type) select id, 'lanes', 'MANUAL' from p returning id, project_id)
      select project_id as project, id as workflow from w`);
    const { project, workflow } = rows[0]!;
    // Started executions (no start queued): 31 of one workflow.
    await database.pool.query(
      `with c as (insert into contacts (project_id, email) select $1, 'lane-' || n || '@example.com' from generate_series(1, 31) n returning id)
       insert into executions (project_id, workflow_id, contact_id, status, workflow_version) select $1, $2, id, 'WAITING', 1 from c`,
      [project, workflow],
    );
    const ids = (await database.pool.query<{ id: string }>('select id from executions where workflow_id = $1 order by id', [workflow])).rows.map((r) => r.id);
    const [single, ...bulk] = ids as [string, ...string[]];

    // A cancel-all of 30, then a DELETE of the last one.
    expect(await db.transaction((tx) => cancelExecutions(tx, and(eq(executions.workflowId, workflow), ne(executions.id, single))!))).toBe(30);
    expect(await db.transaction((tx) => cancelExecutions(tx, eq(executions.id, single)))).toBe(1);

    // The one cancelled last is among the first five claimed, with the cancel-all's first four.
    const { rows: queued } = await database.pool.query<{ execution_id: string }>(
      "select execution_id from outbox where kind = 'cancel' and execution_id = any($1::uuid[]) order by id",
      [bulk],
    );
    const claimed = await claimCommands(db, 200, 60, { window: 5, holdSeconds: 10 });
    expect(claimed.map((r) => r.executionId).sort()).toEqual([single, ...queued.slice(0, 4).map((r) => r.execution_id)].sort());
  });

  it('puts the cancel of a run that found its execution cancelled at the head of the lane', async () => {
    const { db } = database;
    await db.delete(outbox);
    const executionIds = Array.from({ length: 5 }, () => randomUUID());
    await db.insert(outbox).values(executionIds.map((executionId) => ({ kind: 'cancel', executionId })));
    const cancels = { window: 1, holdSeconds: 10 };

    const [first] = await claimCommands(db, 200, 60, cancels);
    expect(first!.executionId).toBe(executionIds[0]);
    // The leased one stays where it is; the fourth, still queued, goes ahead of the second and third.
    expect(await expediteCancel(db, executionIds[0]!)).toBe(false);
    expect(await expediteCancel(db, executionIds[3]!)).toBe(true);
    expect(await acknowledgeCancel(db, executionIds[0]!)).toBe(true);
    expect((await claimCommands(db, 200, 60, cancels)).map((r) => r.executionId)).toEqual([executionIds[3]]);
  });

  it('holds no place for the cancel of a run awake for it: dropped once Temporal accepted it, whether it was queued, being sent or accepted already', async () => {
    const { db } = database;
    await db.delete(outbox);
    const [a, b, c, d] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    await db.insert(outbox).values([a, b, c, d].map((executionId) => ({ kind: 'cancel', executionId })));
    const cancels = { window: 1, holdSeconds: 10 };
    const queuedCancels = async () => (await db.select({ executionId: outbox.executionId }).from(outbox)).map((r) => r.executionId).sort();

    // Accepted already, its place held: its run wakes, finds its execution cancelled and asks; the place is free.
    const [first] = await claimCommands(db, 200, 60, cancels);
    expect(first!.executionId).toBe(a);
    expect(await markCancelsRequested(db, [first!.id])).toBe(false);
    expect(await claimCommands(db, 200, 60, cancels)).toEqual([]);
    expect(await expediteCancel(db, a)).toBe(true);
    expect(await queuedCancels()).toEqual([b, c, d].sort());

    // Being sent when its run asks: gone once Temporal accepts it, the place free again.
    const [second] = await claimCommands(db, 200, 60, cancels);
    expect(second!.executionId).toBe(b);
    expect(await expediteCancel(db, b)).toBe(false);
    expect(await markCancelsRequested(db, [second!.id])).toBe(true);
    expect(await queuedCancels()).toEqual([c, d].sort());

    // Queued when its run asks: next in line, and gone once accepted.
    expect(await expediteCancel(db, d)).toBe(true);
    const [third] = await claimCommands(db, 200, 60, cancels);
    expect(third!.executionId).toBe(d);
    expect(await markCancelsRequested(db, [third!.id])).toBe(true);

    // A cancel whose run did not ask holds its place as before.
    const [fourth] = await claimCommands(db, 200, 60, cancels);
    expect(fourth!.executionId).toBe(c);
    expect(await markCancelsRequested(db, [fourth!.id])).toBe(false);
    expect(await queuedCancels()).toEqual([c]);
    expect(await claimCommands(db, 200, 60, cancels)).toEqual([]);
    expect(await expediteCancel(db, randomUUID())).toBe(false);
  });

  it('lets a cancel whose run does not answer hold its place only so long, and hands it back requested when its lease runs out', async () => {
    const { db } = database;
    await db.delete(outbox);
    const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()];
    await db.insert(outbox).values([a, b, c].map((executionId) => ({ kind: 'cancel', executionId })));
    const cancels = { window: 2, holdSeconds: 1 };

    const leased = await claimCommands(db, 200, 2, cancels);
    expect(leased.map((r) => r.executionId).sort()).toEqual([a, b].sort());
    await markCancelsRequested(
      db,
      leased.map((r) => r.id),
    );
    expect(await claimCommands(db, 200, 2, cancels)).toEqual([]);
    // Their runs never answer (their worker is gone): after the hold, the third is sent.
    const third = await waitFor(async () => {
      const rows = await claimCommands(db, 200, 2, cancels);
      return rows.length > 0 ? rows : undefined;
    }, 'a place for the third');
    expect(third.map((r) => r.executionId)).toEqual([c]);
    expect(cancelRequested(third[0]!)).toBe(false);
    // Once their leases run out the two come back marked requested: a dispatcher drops them without a call.
    const expired = await waitFor(async () => {
      const rows = await claimCommands(db, 200, 2, { window: 3, holdSeconds: 1 });
      return rows.length > 0 ? rows : undefined;
    }, 'the leases run out');
    expect(expired.map((r) => r.executionId).sort()).toEqual([a, b].sort());
    expect(expired.every(cancelRequested)).toBe(true);
  });
});
