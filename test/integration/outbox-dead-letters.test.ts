import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { and, eq, inArray } from 'drizzle-orm';
import { executions, outbox, outboxDeadLetters } from '../../db/schema';
import { buildWorkflow } from '../support/builders';
import { executionIn, onlyExecution } from '../support/executions';
import { startTestApp, type TestApp } from '../support/harness';
import { sampleValue, scrape } from '../support/prometheus';

describe('an outbox command that can never succeed', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(async () => {
    await app?.close();
  });

  it('ends in the dead letters with its execution FAILED, while the commands of other executions flow on', async () => {
    // A graph over Temporal's 2 MB payload limit: its run's start is refused, however often it is sent.
    const body = { note: 'x'.repeat(700_000) };
    const huge = await buildWorkflow(app.api, {
      eventName: 'imported',
      steps: [1, 2, 3, 4].map((n) => ({ key: `call${n}`, type: 'WEBHOOK', config: { url: `https://hooks.example.com/${n}`, body } })),
      edges: [
        ['trigger', 'call1'],
        ['call1', 'call2'],
        ['call2', 'call3'],
        ['call3', 'call4'],
      ],
    });
    const small = await buildWorkflow(app.api, {
      eventName: 'imported',
      steps: [{ key: 'mark', type: 'UPDATE_CONTACT', config: { data: { imported: true } } }],
      edges: [['trigger', 'mark']],
    });

    // One track enrols the contact in both: two starts, the refused one queued first.
    const emails = ['first@example.com', 'second@example.com', 'third@example.com'];
    for (const email of emails) expect((await app.api.post('/v1/track', { event: 'imported', email })).status).toBe(200);

    for (const email of emails) {
      const contact = (await app.api.get(`/contacts?search=${email}`)).body.data[0].id as string;
      const refused = await executionIn(app.api, huge.id, (await onlyExecution(app.api, huge.id, contact)).id, ['FAILED', 'COMPLETED'], 30_000);
      expect(refused.status).toBe('FAILED');
      expect(refused.error).toMatch(/^Temporal could not carry out the start: .*size exceeds limit/i);
      expect(refused.completedAt).not.toBeNull();
      const ran = await executionIn(app.api, small.id, (await onlyExecution(app.api, small.id, contact)).id, ['FAILED', 'COMPLETED']);
      expect(ran.status).toBe('COMPLETED');
      expect((await app.api.get(`/contacts/${contact}`)).body.data).toEqual({ imported: true });
    }

    // Only this test's executions: the test files share the database, its outbox and its dead letters.
    const { db } = app.trellis.database;
    const ours = db
      .select({ id: executions.id })
      .from(executions)
      .where(inArray(executions.workflowId, [huge.id, small.id]));
    const dead = await db
      .select()
      .from(outboxDeadLetters)
      .where(and(eq(outboxDeadLetters.kind, 'start'), inArray(outboxDeadLetters.executionId, ours)));
    expect(dead).toHaveLength(3);
    // A refusal is final at once, well within the attempt limit.
    expect(dead.map((d) => d.attempts)).toEqual([1, 1, 1]);
    expect(await db.select().from(outbox).where(inArray(outbox.executionId, ours))).toEqual([]);

    const { samples } = await scrape(app.url);
    expect(sampleValue(samples, 'trellis_outbox_dead_letters_total', { kind: 'start' })).toBe(3);
    expect(sampleValue(samples, 'trellis_executions_finished_total', { status: 'FAILED' })).toBe(3);
  });
});
