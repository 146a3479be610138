import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client as PgClient } from 'pg';
import { eq, inArray, sql } from 'drizzle-orm';
import { temporal } from '@temporalio/proto';
import { temporalWorkflowId } from '../../core/execution';
import { commandsQueued, leasedCommands, queueLeasedSignals, SEND_AT_ONCE } from '../../db/outbox';
import { outbox } from '../../db/schema';
import { startTestApp, waitFor, type TestApp } from '../support/harness';
import { fileDatabaseUrl } from '../support/file-databases';

describe('the outbox', () => {
  let app: TestApp;
  let other: PgClient;

  beforeAll(async () => {
    app = await startTestApp({ env: { ROLE: 'api' } });
    other = new PgClient({ connectionString: fileDatabaseUrl() });
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

  it("leases at most a batch of one transaction's deliveries to its process, and queues the rest for a dispatcher", async () => {
    const executionIds = Array.from({ length: SEND_AT_ONCE + 1 }, () => randomUUID());
    const rolledBack = new Error('roll back: nothing here is for a dispatcher');
    let seen: { leased: number; queued: boolean; rows: { leased: boolean; n: number }[] } | undefined;
    await expect(
      app.trellis.database.db.transaction(async (tx) => {
        await queueLeasedSignals(
          tx,
          executionIds.map((executionId) => ({ executionId, event: { eventId: randomUUID(), name: 'go', data: {}, recordedAt: new Date().toISOString() } })),
        );
        const rows = await tx.execute<{ leased: boolean; n: number }>(
          sql`select locked_until is not null as leased, count(*)::int as n from outbox where execution_id in (select value::uuid from jsonb_array_elements_text(${JSON.stringify(executionIds)}::jsonb)) group by 1 order by 1`,
        );
        seen = { leased: leasedCommands(tx).length, queued: commandsQueued(tx), rows: rows.rows };
        throw rolledBack;
      }),
    ).rejects.toBe(rolledBack);
    expect(seen).toEqual({
      leased: SEND_AT_ONCE,
      queued: true,
      rows: [
        { leased: false, n: 1 },
        { leased: true, n: SEND_AT_ONCE },
      ],
    });
  });

  it('sends a cancel once: kept, marked requested, until its run answers; once its lease runs out unanswered, dropped without a second call', async () => {
    const { db } = app.trellis.database;
    const { client } = app.trellis;
    // Two runs that no worker serves (this process is an API), so neither ever answers its cancel.
    const [fresh, stale] = [randomUUID(), randomUUID()];
    const taskQueue = `nobody-${randomUUID()}`;
    const handles = await Promise.all([fresh, stale].map((id) => client.workflow.start('nothingHere', { taskQueue, workflowId: temporalWorkflowId(id) })));
    const cancelRequests = async (i: number) =>
      ((await handles[i]!.fetchHistory()).events ?? []).filter(
        (e) => e.eventType === temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED,
      ).length;

    // A cancel Temporal accepts stays in the outbox, marked requested, leased.
    await db.insert(outbox).values({ kind: 'cancel', executionId: fresh });
    app.trellis.dispatcher.kick();
    const [kept] = await waitFor(async () => {
      const rows = await db.select().from(outbox).where(eq(outbox.executionId, fresh));
      return rows.length === 1 && (rows[0]!.payload as { requested?: boolean }).requested ? rows : undefined;
    }, 'the cancel marked requested');
    expect(kept!.lockedUntil!.getTime()).toBeGreaterThan(Date.now());
    expect(await cancelRequests(0)).toBe(1);

    // One requested before whose lease ran out: the dispatcher removes it and calls nobody.
    const past = new Date(Date.now() - 1000);
    await db.insert(outbox).values({ kind: 'cancel', executionId: stale, payload: { requested: true }, availableAt: past, lockedUntil: past });
    app.trellis.dispatcher.kick();
    await waitFor(async () => (await db.select().from(outbox).where(eq(outbox.executionId, stale))).length === 0, 'the stale cancel dropped');
    expect(await cancelRequests(1)).toBe(0);

    await db.delete(outbox).where(eq(outbox.executionId, fresh));
    await Promise.all(handles.map((h) => h.terminate('test over')));
  });
});
