import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StepRecord } from '../../core/execution';
import { claimAndRecord, writeRecordsAndPatch } from '../../db/journal';
import { queueCommands } from '../../db/outbox';
import { contacts, executions, outbox, stepExecutions } from '../../db/schema';
import { createScratchDatabase, type ScratchDatabase } from '../../scripts/local-servers';
import { buildWorkflow, createTemplate } from '../support/builders';
import { executionIn, finishedExecution } from '../support/executions';
import { startTestApp, waitFor, type TestApp } from '../support/harness';
import { parseExposition, scrape, sampleValue, type Sample } from '../support/prometheus';
import { startSmtp, type TestSmtp } from '../support/smtp';

const PG_BASE = process.env.TRELLIS_TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432';
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;

describe('GET /metrics', () => {
  let app: TestApp;
  let smtp: TestSmtp;
  let scratch: ScratchDatabase;

  beforeAll(async () => {
    smtp = await startSmtp();
    // A database of its own: every process's dispatcher serves the outbox of the database it uses,
    // and this file counts what its own dispatcher did.
    scratch = await createScratchDatabase(PG_BASE, 'trellis_metrics');
    app = await startTestApp({ env: { SMTP_URL: smtp.url, METRICS_PORT: '0', DATABASE_URL: scratch.url } });
  });
  afterAll(async () => {
    await app?.close();
    await smtp?.close();
    await scratch?.drop();
  });

  /**
   * An execution Postgres holds with `status` that Temporal never started, on a workflow of its own
   * with no steps: the test writes to it what activities and the dispatcher would.
   */
  async function postgresOnlyExecution(name: string, email: string, status: 'RUNNING' | 'WAITING') {
    const wf = await buildWorkflow(app.api, { name, manual: true, steps: [], edges: [] });
    const contact = (await app.api.post('/contacts', { email })).body;
    const [execution] = await app.trellis.database.db
      .insert(executions)
      .values({ projectId: app.project.id, workflowId: wf.id, contactId: contact.id, status, workflowVersion: 1 })
      .returning();
    return { wf, contactId: contact.id as string, id: execution!.id };
  }

  it('answers well-formed Prometheus text without a key, with every Trellis metric, process metrics and the Temporal SDK worker metrics', async () => {
    const res = await waitFor(async () => {
      const r = await scrape(app.url);
      // The SDK's exporter shows its worker metrics once the worker has polled.
      return r.families.some((f) => f.startsWith('temporal_')) && r;
    }, 'the Temporal SDK metrics in /metrics');
    expect(res.status).toBe(200);
    expect(res.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(parseExposition(res.text).errors).toEqual([]);
    const names = res.families;
    for (const name of [
      'trellis_http_request_duration_seconds',
      'trellis_executions_started_total',
      'trellis_executions_finished_total',
      'trellis_step_duration_seconds',
      'trellis_emails_total',
      'trellis_dispatcher_failures_total',
      'trellis_outbox_commands_total',
      'trellis_outbox_depth',
      'trellis_outbox_oldest_seconds',
      'process_resident_memory_bytes',
      'process_cpu_seconds_total',
    ]) {
      expect(names).toContain(name);
    }
    expect(names.some((n) => n.startsWith('temporal_') && /poll|task|worker|request/.test(n))).toBe(true);
    expect(sampleValue(res.samples, 'trellis_outbox_depth')).toBe(0);
    expect(sampleValue(res.samples, 'trellis_outbox_oldest_seconds')).toBe(0);
  });

  it('counts the start, the end, the step and the email of a run where their writes commit', async () => {
    const { api } = app;
    const template = await createTemplate(api, { subject: 'Hello {{email}}', body: '<p>hi</p>' });
    const wf = await buildWorkflow(api, {
      name: 'metrics run',
      manual: true,
      steps: [{ key: 'send', type: 'SEND_EMAIL', config: { templateId: template } }],
      edges: [['trigger', 'send']],
    });
    const before = (await scrape(app.url)).samples;

    const started = await api.post(`/workflows/${wf.id}/executions`, { email: 'counted@example.com' });
    expect(started.status).toBe(201);
    const execution = await finishedExecution(api, wf.id, started.body.id);
    expect(execution.status).toBe('COMPLETED');

    const delta = (samples: Sample[], name: string, labels: Record<string, string> = {}) =>
      sampleValue(samples, name, labels) - sampleValue(before, name, labels);
    // The dispatcher counts its start after its own commit, which may land just after the run ends.
    const after = await waitFor(async () => {
      const f = (await scrape(app.url)).samples;
      return delta(f, 'trellis_executions_started_total') >= 1 && f;
    }, 'the start to be counted');
    expect(delta(after, 'trellis_executions_started_total')).toBe(1);
    expect(delta(after, 'trellis_executions_finished_total', { status: 'COMPLETED' })).toBe(1);
    expect(delta(after, 'trellis_executions_finished_total')).toBe(1);
    expect(delta(after, 'trellis_emails_total', { status: 'SENT' })).toBe(1);
    expect(delta(after, 'trellis_emails_total')).toBe(1);
    const steps = { type: 'SEND_EMAIL', status: 'COMPLETED' };
    expect(delta(after, 'trellis_step_duration_seconds_count', steps)).toBe(1);

    // The HTTP histogram is labelled by route pattern and status: no id ever becomes a label.
    const route = { method: 'POST', route: '/workflows/:id/executions', status: '201' };
    expect(delta(after, 'trellis_http_request_duration_seconds_count', route)).toBe(1);
    const http = after.filter((s) => s.name === 'trellis_http_request_duration_seconds_count');
    expect(http.length).toBeGreaterThan(0);
    for (const s of http) expect(JSON.stringify(s.labels)).not.toMatch(UUID);
  });

  it('counts a cancelled run as finished CANCELLED once, however many writes try to close it', async () => {
    const { api } = app;
    const wf = await buildWorkflow(api, {
      name: 'metrics cancel',
      manual: true,
      steps: [{ key: 'wait', type: 'DELAY', config: { amount: 1, unit: 'days' } }],
      edges: [['trigger', 'wait']],
    });
    const started = await api.post(`/workflows/${wf.id}/executions`, { email: 'cancelled@example.com' });
    await executionIn(api, wf.id, started.body.id, ['WAITING']);
    const before = (await scrape(app.url)).samples;

    expect((await api.delete(`/workflows/${wf.id}/executions/${started.body.id}`)).status).toBe(200);
    // The workflow then records its own cancellation too; the projection keeps the API's.
    await waitFor(
      async () => (await app.trellis.client.workflow.getHandle(`trellis-execution-${started.body.id}`).describe()).status.name === 'CANCELLED',
      'Temporal to close the run',
    );

    const after = (await scrape(app.url)).samples;
    const cancelled = { status: 'CANCELLED' };
    expect(sampleValue(after, 'trellis_executions_finished_total', cancelled) - sampleValue(before, 'trellis_executions_finished_total', cancelled)).toBe(1);
  });

  it("observes a step's duration once, when its visit ends, however often a retried activity writes its final record again", async () => {
    const { db } = app.trellis.database;
    // The journal's statements are written to it as activities write them.
    const { wf, contactId, id } = await postgresOnlyExecution('metrics retried', 'retried@example.com', 'RUNNING');
    const stepId = wf.steps.trigger!;
    const visit = (seq: number, status: StepRecord['status'], seconds: number): StepRecord => ({
      seq,
      stepId,
      type: 'WEBHOOK',
      name: 'call',
      status,
      startedAt: '2026-12-01T00:00:00.000Z',
      ...(status === 'RUNNING' ? {} : { completedAt: new Date(Date.parse('2026-12-01T00:00:00.000Z') + seconds * 1000).toISOString() }),
    });
    const completed = { type: 'WEBHOOK', status: 'COMPLETED' };
    const failed = { type: 'WEBHOOK', status: 'FAILED' };
    /** The histogram's count and sum for each of `labels`, as one scrape shows them. */
    const observed = async (...labels: Record<string, string>[]) => {
      const samples = (await scrape(app.url)).samples;
      return labels.map((l) => [sampleValue(samples, 'trellis_step_duration_seconds_count', l), sampleValue(samples, 'trellis_step_duration_seconds_sum', l)]);
    };
    const [[count0, sum0], [failedCount0, failedSum0]] = await observed(completed, failed);

    // Records alone: opened RUNNING (nothing observed), ended, then written again by a retry.
    await writeRecordsAndPatch(db, id, [visit(1, 'RUNNING', 0)], undefined);
    await writeRecordsAndPatch(db, id, [visit(1, 'COMPLETED', 2)], undefined);
    await writeRecordsAndPatch(db, id, [visit(1, 'COMPLETED', 3)], undefined);
    // Records with the execution's patch, twice.
    const patch = { status: 'RUNNING' as const, currentStepId: stepId };
    await writeRecordsAndPatch(db, id, [visit(2, 'COMPLETED', 5)], patch);
    await writeRecordsAndPatch(db, id, [visit(2, 'COMPLETED', 7)], patch);
    // A claim's records, twice, beside a visit already ended (seq 1) that its journal carries again.
    expect(await claimAndRecord(db, id, stepId, [visit(1, 'COMPLETED', 2), visit(3, 'COMPLETED', 11)])).toHaveLength(1);
    expect(await claimAndRecord(db, id, stepId, [visit(3, 'COMPLETED', 13)])).toHaveLength(1);
    // A claim with the journal's patch, ending a visit FAILED, twice.
    expect(await claimAndRecord(db, id, stepId, [visit(4, 'FAILED', 17)], patch)).toHaveLength(1);
    expect(await claimAndRecord(db, id, stepId, [visit(4, 'FAILED', 19)], patch)).toHaveLength(1);

    const [[count, sum], [failedCount, failedSum]] = await observed(completed, failed);
    expect(count! - count0!).toBe(3);
    // The first ending of each visit: 2 s, 5 s and 11 s; the FAILED one's 17 s.
    expect(sum! - sum0!).toBeCloseTo(18, 6);
    expect(failedCount! - failedCount0!).toBe(1);
    expect(failedSum! - failedSum0!).toBeCloseTo(17, 6);
    // The records themselves are as the last writes left them.
    const rows = await db.select().from(stepExecutions).where(eq(stepExecutions.executionId, id)).orderBy(stepExecutions.seq);
    expect(rows.map((r) => [r.seq, r.status, r.completedAt?.toISOString()])).toEqual([
      [1, 'COMPLETED', '2026-12-01T00:00:02.000Z'],
      [2, 'COMPLETED', '2026-12-01T00:00:07.000Z'],
      [3, 'COMPLETED', '2026-12-01T00:00:13.000Z'],
      [4, 'FAILED', '2026-12-01T00:00:19.000Z'],
    ]);
    await db.delete(contacts).where(eq(contacts.id, contactId));
  });

  it('counts a command the dispatcher could not carry out, and shows it queued in the outbox gauges', async () => {
    const { trellis } = app;
    const { db } = trellis.database;
    // Waiting in Postgres, never started in Temporal: a signal to it fails and stays queued (its
    // start may still be on its way from another process).
    const orphan = await postgresOnlyExecution('metrics orphan', 'orphan@example.com', 'WAITING');
    const before = (await scrape(app.url)).samples;
    await queueCommands(db, [{ kind: 'signal', executionId: orphan.id, event: { eventId: randomUUID(), name: 'poke', data: {} } }]);
    trellis.dispatcher.kick();

    const failed = await waitFor(async () => {
      const f = (await scrape(app.url)).samples;
      return (
        sampleValue(f, 'trellis_dispatcher_failures_total', { kind: 'signal' }) >
          sampleValue(before, 'trellis_dispatcher_failures_total', { kind: 'signal' }) && f
      );
    }, 'the failed signal to be counted');
    // Retried only after a backoff of a second or more: this scrape saw the first failure alone.
    expect(
      sampleValue(failed, 'trellis_dispatcher_failures_total', { kind: 'signal' }) -
        sampleValue(before, 'trellis_dispatcher_failures_total', { kind: 'signal' }),
    ).toBe(1);
    expect(sampleValue(failed, 'trellis_outbox_depth')).toBe(1);
    expect(sampleValue(failed, 'trellis_outbox_oldest_seconds')).toBeGreaterThan(0);

    // Once the execution is no longer active, the next attempt drops the signal.
    await db.update(executions).set({ status: 'CANCELLED' }).where(eq(executions.id, orphan.id));
    await waitFor(async () => (await db.select().from(outbox).where(eq(outbox.executionId, orphan.id))).length === 0, 'the signal to be dropped', 60_000);
    const after = (await scrape(app.url)).samples;
    expect(sampleValue(after, 'trellis_outbox_depth')).toBe(0);
    expect(sampleValue(after, 'trellis_outbox_oldest_seconds')).toBe(0);
    await db.delete(contacts).where(eq(contacts.id, orphan.contactId));
  });

  it('serves /metrics, /healthz and /readyz, and nothing else, on METRICS_PORT', async () => {
    const url = app.trellis.metricsUrl!;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const metrics = await scrape(url);
    expect(metrics.status).toBe(200);
    expect(metrics.families).toContain('trellis_executions_started_total');
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    const other = await fetch(`${url}/contacts`);
    expect(other.status).toBe(404);
    expect(((await other.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND');
    // The API's other public routes are not there either.
    expect((await fetch(`${url}/openapi.json`)).status).toBe(404);
    expect((await fetch(`${url}/docs`)).status).toBe(404);
    // Its own paths refuse the methods they do not serve, as the API's do.
    const post = await fetch(`${url}/metrics`, { method: 'POST' });
    expect([post.status, post.headers.get('allow')]).toEqual([405, 'GET, HEAD, OPTIONS']);
  });
});
