/**
 * Purging history: a workflow's finished executions on request (at once up to a batch, in the
 * background beyond it), RETENTION_DAYS on its Temporal Schedule, and idempotency keys after 24 h.
 * Histories are written straight into Postgres, as months of runs would have left them.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client as PgClient } from 'pg';
import { startTrellis } from '../../app/trellis';
import { retentionScheduleId } from '../../core/retention';
import type { ScratchDatabase } from '../../scripts/local-servers';
import { privateDatabase } from '../support/audience';
import { buildWorkflow } from '../support/builders';
import { startTestApp, testConfig, waitFor, workflowBundle, type TestApp } from '../support/harness';

const DAY_MS = 86_400_000;

/** Writes executions of a workflow (each with one step record and one email), finished `ageDays` ago unless active. */
async function insertRuns(
  pg: PgClient,
  run: { projectId: string; workflowId: string; stepId: string; status: string; count: number; ageDays: number },
): Promise<string[]> {
  const finishedAt = new Date(Date.now() - run.ageDays * DAY_MS);
  const active = run.status === 'RUNNING' || run.status === 'WAITING';
  const { rows } = await pg.query<{ id: string }>(
    `with c as (
       insert into contacts (project_id, email)
       select $1, $2 || '-' || i || '@purge.test' from generate_series(1, $3) i returning id
     ), e as (
       insert into executions (project_id, workflow_id, contact_id, status, workflow_version, current_step_id, started_at, completed_at)
       select $1, $4, c.id, $5, 1, $6, $7::timestamptz - interval '1 minute', $8 from c returning id, contact_id
     ), s as (
       insert into step_executions (execution_id, seq, step_id, type, name, status, started_at, completed_at)
       select e.id, 1, $6, 'TRIGGER', 'trigger', 'COMPLETED', $7, $7 from e
     ), m as (
       insert into emails (project_id, contact_id, execution_id, step_id, "to", subject, message_id, status, sent_at)
       select $1, e.contact_id, e.id, $6, 'x@purge.test', 'Hi', gen_random_uuid()::text || '@purge.test', 'SENT', $7 from e
     )
     select id from e`,
    [run.projectId, randomUUID().slice(0, 8), run.count, run.workflowId, run.status, run.stepId, finishedAt, active ? null : finishedAt],
  );
  return rows.map((r) => r.id);
}

async function countRows(pg: PgClient, table: 'executions' | 'step_executions' | 'emails', ids: string[]): Promise<number> {
  const column = table === 'executions' ? 'id' : 'execution_id';
  const { rows } = await pg.query<{ n: number }>(`select count(*)::int as n from ${table} where ${column} = any($1::uuid[])`, [ids]);
  return rows[0]!.n;
}

describe("DELETE /workflows/:id/executions: a workflow's finished history", () => {
  let app: TestApp;
  let pg: PgClient;

  beforeAll(async () => {
    app = await startTestApp();
    pg = new PgClient({ connectionString: app.trellis.config.databaseUrl });
    await pg.connect();
  });
  afterAll(async () => {
    await pg?.end();
    await app?.close();
  });

  const manualWorkflow = () => buildWorkflow(app.api, { manual: true, steps: [], edges: [], enabled: false });

  it('purges the chosen finished executions with their steps and emails, and nothing else', async () => {
    const wf = await manualWorkflow();
    const other = await manualWorkflow();
    const base = { projectId: app.project.id, workflowId: wf.id, stepId: wf.triggerId };
    const completed = await insertRuns(pg, { ...base, status: 'COMPLETED', count: 5, ageDays: 10 });
    const failed = await insertRuns(pg, { ...base, status: 'FAILED', count: 3, ageDays: 10 });
    const recent = await insertRuns(pg, { ...base, status: 'CANCELLED', count: 2, ageDays: 1 });
    const active = await insertRuns(pg, { ...base, status: 'WAITING', count: 4, ageDays: 10 });
    const elsewhere = await insertRuns(pg, {
      projectId: app.project.id,
      workflowId: other.id,
      stepId: other.triggerId,
      status: 'COMPLETED',
      count: 2,
      ageDays: 10,
    });

    const onlyFailed = await app.api.delete(`/workflows/${wf.id}/executions?status=FAILED`);
    expect([onlyFailed.status, onlyFailed.body]).toEqual([200, { purged: 3 }]);
    expect(await countRows(pg, 'executions', failed)).toBe(0);
    expect(await countRows(pg, 'step_executions', failed)).toBe(0);
    expect(await countRows(pg, 'emails', failed)).toBe(0);

    const before = new Date(Date.now() - 5 * DAY_MS).toISOString();
    const older = await app.api.delete(`/workflows/${wf.id}/executions?before=${encodeURIComponent(before)}`);
    expect([older.status, older.body]).toEqual([200, { purged: 5 }]);
    expect(await countRows(pg, 'executions', completed)).toBe(0);
    expect(await countRows(pg, 'emails', completed)).toBe(0);
    // Finished after `before`, active, or another workflow's: all kept, with their history.
    expect(await countRows(pg, 'executions', [...recent, ...active, ...elsewhere])).toBe(8);
    expect(await countRows(pg, 'step_executions', [...recent, ...active, ...elsewhere])).toBe(8);
    expect(await countRows(pg, 'emails', [...recent, ...active, ...elsewhere])).toBe(8);

    const rest = await app.api.delete(`/workflows/${wf.id}/executions`);
    expect([rest.status, rest.body]).toEqual([200, { purged: 2 }]);
    const left = await app.api.get(`/workflows/${wf.id}/executions`);
    expect(left.body.total).toBe(4);
    expect(new Set(left.body.data.map((e: { status: string }) => e.status))).toEqual(new Set(['WAITING']));
    expect((await app.api.delete(`/workflows/${wf.id}/executions`)).body).toEqual({ purged: 0 });
  });

  it('refuses active statuses, bad dates and unknown workflows', async () => {
    const wf = await manualWorkflow();
    const active = await app.api.delete(`/workflows/${wf.id}/executions?status=RUNNING`);
    expect(active.status).toBe(400);
    expect(active.body.error.details).toEqual([
      { path: 'query.status', message: 'only finished executions are purged: COMPLETED, EXITED, FAILED or CANCELLED' },
    ]);
    const badDate = await app.api.delete(`/workflows/${wf.id}/executions?before=yesterday`);
    expect(badDate.status).toBe(400);
    expect(badDate.body.error.details.map((d: { path: string }) => d.path)).toEqual(['query.before']);
    const unknown = await app.api.delete(`/workflows/${randomUUID()}/executions`);
    expect([unknown.status, unknown.body.error.code]).toEqual([404, 'NOT_FOUND']);
    const otherProject = await app.newProject('purge stranger');
    expect((await otherProject.api.delete(`/workflows/${wf.id}/executions`)).status).toBe(404);
  });

  it('answers 202 for more than a batch and purges them all in the background', async () => {
    const wf = await manualWorkflow();
    const base = { projectId: app.project.id, workflowId: wf.id, stepId: wf.triggerId };
    const finished = await insertRuns(pg, { ...base, status: 'COMPLETED', count: 2_500, ageDays: 3 });
    const active = await insertRuns(pg, { ...base, status: 'RUNNING', count: 3, ageDays: 3 });

    const res = await app.api.delete(`/workflows/${wf.id}/executions`);
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    expect(res.body.temporalWorkflowId).toBe(`trellis-purge-${res.body.purgeId}`);
    await waitFor(async () => (await app.api.get(`/workflows/${wf.id}/executions?status=COMPLETED&pageSize=1`)).body.total === 0, 'the purge', 60_000);
    const purge = app.trellis.client.workflow.getHandle(res.body.temporalWorkflowId);
    expect(await purge.result()).toBe(2_500);
    expect(await countRows(pg, 'emails', finished)).toBe(0);
    expect(await countRows(pg, 'executions', active)).toBe(3);
  }, 90_000);
});

describe('RETENTION_DAYS and idempotency keys', () => {
  let database: ScratchDatabase;
  let app: TestApp;
  let pg: PgClient;

  beforeAll(async () => {
    // The retention purge spans the whole database: this file's own.
    database = await privateDatabase();
    app = await startTestApp({ env: { DATABASE_URL: database.url, RETENTION_DAYS: '30' } });
    pg = new PgClient({ connectionString: database.url });
    await pg.connect();
  });
  afterAll(async () => {
    await pg?.end();
    await app?.close();
    await database?.drop();
  });

  it('keeps a Schedule that purges only what is older than RETENTION_DAYS, and only expired keys when unset', async () => {
    const taskQueue = app.trellis.config.taskQueue;
    const schedule = app.trellis.client.schedule.getHandle(retentionScheduleId(taskQueue));
    const described = await schedule.describe();
    expect(described.spec.intervals?.map((i) => i.every)).toEqual([3_600_000]);
    expect(described.action.type === 'startWorkflow' && described.action.args).toEqual([{ scope: { kind: 'retention', days: 30 } }]);

    const wf = await buildWorkflow(app.api, { manual: true, steps: [], edges: [], enabled: false });
    const base = { projectId: app.project.id, workflowId: wf.id, stepId: wf.triggerId };
    const old = await insertRuns(pg, { ...base, status: 'EXITED', count: 3, ageDays: 40 });
    const young = await insertRuns(pg, { ...base, status: 'COMPLETED', count: 2, ageDays: 20 });
    const oldButActive = await insertRuns(pg, { ...base, status: 'WAITING', count: 1, ageDays: 40 });
    const contact = (await pg.query<{ id: string }>('select id from contacts where project_id = $1 limit 1', [app.project.id])).rows[0]!.id;
    await pg.query(
      `insert into events (project_id, contact_id, name, created_at) values ($1, $2, 'old', now() - interval '31 days'), ($1, $2, 'young', now() - interval '29 days')`,
      [app.project.id, contact],
    );
    await pg.query(
      `insert into idempotency_keys (project_id, key, request_hash, created_at) values ($1, 'expired', 'h', now() - interval '25 hours'), ($1, 'fresh', 'h', now() - interval '23 hours')`,
      [app.project.id],
    );

    await schedule.trigger();
    await waitFor(async () => (await countRows(pg, 'executions', old)) === 0, 'the retention purge', 60_000);
    await waitFor(async () => (await schedule.describe()).info.runningActions.length === 0, 'the purge run to close', 30_000);
    expect(await countRows(pg, 'step_executions', old)).toBe(0);
    expect(await countRows(pg, 'emails', old)).toBe(0);
    expect(await countRows(pg, 'executions', [...young, ...oldButActive])).toBe(3);
    expect(await countRows(pg, 'emails', [...young, ...oldButActive])).toBe(3);
    const names = await pg.query<{ name: string }>('select name from events where project_id = $1 order by name', [app.project.id]);
    expect(names.rows.map((r) => r.name)).toEqual(['young']);
    const keys = await pg.query<{ key: string }>('select key from idempotency_keys where project_id = $1', [app.project.id]);
    expect(keys.rows.map((r) => r.key)).toEqual(['fresh']);

    // Another start on the same task queue without RETENTION_DAYS keeps the Schedule for the keys alone.
    const unset = await startTrellis(
      { ...testConfig({ ROLE: 'worker', DATABASE_URL: database.url }), taskQueue },
      { workflowBundle: workflowBundle(), auditRuns: false },
    );
    try {
      const after = await schedule.describe();
      expect(after.action.type === 'startWorkflow' && after.action.args).toEqual([{ scope: { kind: 'retention' } }]);
    } finally {
      await unset.close();
    }
  }, 120_000);

  it('forgets an idempotency key after 24 hours: the same key then tracks afresh', async () => {
    const track = (event: string) =>
      app.api.request('POST', '/v1/track', { event, email: 'keyed@example.com' }, { headers: { 'idempotency-key': 'daily-import' } });
    const first = await track('imported');
    expect(first.status).toBe(200);
    // Within 24 hours, another body under the key is refused.
    expect((await track('other')).status).toBe(409);
    await pg.query(`update idempotency_keys set created_at = now() - interval '25 hours' where key = 'daily-import'`);
    const later = await track('other');
    expect(later.status).toBe(200);
    expect(later.body.data.event).not.toBe(first.body.data.event);
  });
});
