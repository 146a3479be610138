/**
 * Data at size: with a million rows in each table a list route reads, every list query (the page and
 * its exact total) is planned over an index, never a sequential scan of the big table, and the totals
 * stay exact. The queries are the routes' own: the test calls the API and explains what it sent.
 */
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createScratchDatabase, type ScratchDatabase } from '../../scripts/local-servers';
import { startTestApp, type TestApp } from '../support/harness';

const PG_BASE = process.env.TRELLIS_TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432';
// QUERY_PLANS_ROWS lowers the size while working on a query; the assertions hold at the default.
const N = Number(process.env.QUERY_PLANS_ROWS ?? 1_000_000);
const BIG = ['contacts', 'executions', 'step_executions', 'events', 'emails', 'segment_members'];

type PlanNode = { 'Node Type': string; 'Relation Name'?: string; 'Index Name'?: string; Plans?: PlanNode[] };
const nodes = (p: PlanNode): PlanNode[] => [p, ...(p.Plans ?? []).flatMap(nodes)];
type Scan = { relation: string; node: string; index?: string; sql: string };

describe('list queries on a million rows', () => {
  let scratch: ScratchDatabase;
  let app: TestApp;
  let pg: Client;
  let sent: { text: string; values: unknown[] }[] = [];
  const ids = { workflow: '', segment: '', contact: '', execution: '' };

  beforeAll(async () => {
    scratch = await createScratchDatabase(PG_BASE, 'trellis_plans');
    app = await startTestApp({ env: { DATABASE_URL: scratch.url, ROLE: 'api' } });
    const wf = await app.api.post('/workflows', { name: 'Big', eventName: 'big' });
    const segment = await app.api.post('/segments', { name: 'Everyone', filter: { field: 'contact.email', operator: 'exists' } });
    ids.workflow = wf.body.id;
    ids.segment = segment.body.id;
    pg = new Client({ connectionString: scratch.url });
    await pg.connect();
    // Set-based fills with the foreign-key triggers off (the rows are consistent by construction), and
    // the secondary indexes dropped and built again afterwards from their own definitions: one sorted
    // build is many times faster than a million random insertions into each index.
    await pg.query(`set session_replication_role = replica`);
    const secondary = (
      await pg.query(
        `select indexname, indexdef from pg_indexes i
         where schemaname = 'public' and tablename = any($1)
           and not exists (select 1 from pg_constraint c where c.conname = i.indexname)`,
        [BIG],
      )
    ).rows as { indexname: string; indexdef: string }[];
    for (const i of secondary) await pg.query(`drop index ${i.indexname}`);
    const t0 = Date.now();
    const step = (what: string) => console.log(`${what}: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    // The tables hold a million rows; this project a tenth of them (its workflow's 100,000
    // executions, their emails, its contacts' events, one segment of all its contacts), a neighbour
    // project the rest (one workflow, nine segments).
    const project = app.project.id;
    const neighbour = await app.newProject('neighbour');
    const theirs = await neighbour.api.post('/workflows', { name: 'Theirs', eventName: 'big' });
    const theirSegments: string[] = [];
    for (let i = 0; i < 9; i++) {
      theirSegments.push((await neighbour.api.post('/segments', { name: `Theirs ${i}`, filter: { field: 'contact.email', operator: 'exists' } })).body.id);
    }
    const trigger = (await pg.query(`select id from steps where workflow_id = $1`, [ids.workflow])).rows[0].id;
    await pg.query(
      `insert into contacts (project_id, email, tags, created_at)
       select case when i % 10 = 0 then $1 else $2 end::uuid, 'c' || i || '@example.com',
         case when i % 1000 = 0 then '{vip}'::text[] else '{}' end, now() - i * interval '1 second'
       from generate_series(1, ${N}) i`,
      [project, neighbour.id],
    );
    // Per project, n numbers its contacts 1, 2, …: statuses, event names and members follow from it.
    const numbered = `select id, project_id, created_at, row_number() over (partition by project_id order by created_at) as n from contacts`;
    await pg.query(
      `insert into executions (project_id, workflow_id, contact_id, status, workflow_version, started_at, completed_at)
       select project_id, case when project_id = $1 then $2 else $3 end::uuid, id,
         (array['COMPLETED', 'WAITING', 'EXITED', 'FAILED'])[n % 4 + 1], 1, created_at, case when n % 4 <> 1 then created_at end
       from (${numbered}) c`,
      [project, ids.workflow, theirs.body.id],
    );
    await pg.query(
      `insert into step_executions (execution_id, seq, step_id, type, name, status, started_at)
       select id, 0, $1, 'TRIGGER', 'Trigger', 'COMPLETED', started_at from executions`,
      [trigger],
    );
    await pg.query(
      `insert into events (project_id, contact_id, name, created_at) select project_id, id, 'event-' || (n % 100), created_at from (${numbered}) c`,
    );
    await pg.query(
      `insert into emails (project_id, contact_id, execution_id, "to", subject, message_id, status, sent_at)
       select project_id, contact_id, id, 'x@example.com', 'Hi', id::text, 'SENT', started_at from executions`,
    );
    await pg.query(
      `insert into segment_members (segment_id, contact_id)
       select case when project_id = $1 then $2::uuid else ($3::uuid[])[n % 9 + 1] end, id from (${numbered}) c`,
      [project, ids.segment, theirSegments],
    );
    await pg.query(`update segments set computing = false, initializing = false`);
    step('filled');
    for (const i of secondary) await pg.query(i.indexdef);
    step('indexed');
    for (const table of BIG) await pg.query(`vacuum analyze ${table}`);
    step('vacuumed');
    ids.contact = (await pg.query(`select id from contacts where email = $1`, [`c${N / 2}@example.com`])).rows[0].id;
    ids.execution = (await pg.query(`select id from executions where contact_id = $1`, [ids.contact])).rows[0].id;

    // Every statement the API sends from here on is recorded.
    const pool = app.trellis.database.pool;
    const query = pool.query.bind(pool) as (...args: unknown[]) => unknown;
    (pool as unknown as { query: unknown }).query = (config: unknown, values?: unknown[]) => {
      const text = typeof config === 'string' ? config : (config as { text: string }).text;
      sent.push({ text, values: values ?? [] });
      return query(config, values);
    };
  }, 900_000);

  afterAll(async () => {
    await pg?.end();
    await app?.close();
    await scratch?.drop();
  });

  /** Calls a list route; answers its total and data, and every scan of a big table in the plans of the statements it sent (with the statement, for a failure's message). */
  async function plansOf(path: string): Promise<{ total: number; data: any[]; scans: Scan[] }> {
    sent = [];
    const res = await app.api.get(path);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const scans: Scan[] = [];
    for (const q of sent.filter((s) => /^select/i.test(s.text) && BIG.some((t) => s.text.includes(`"${t}"`)))) {
      const explained = await pg.query(`explain (format json) ${q.text}`, q.values);
      const plan = explained.rows[0]['QUERY PLAN'][0].Plan as PlanNode;
      for (const n of nodes(plan)) {
        if (n['Relation Name'] && BIG.includes(n['Relation Name']))
          scans.push({ relation: n['Relation Name'], node: n['Node Type'], index: n['Index Name'], sql: q.text });
      }
    }
    return { total: res.body.total, data: res.body.data, scans };
  }

  const mine = N / 10;
  const cases: [string, () => string, number][] = [
    ['contacts', () => '/contacts', mine],
    ['contacts by tag', () => '/contacts?tag=vip', N / 1000],
    ['contacts by search', () => `/contacts?search=c${N / 2}@`, 1],
    ["a workflow's executions", () => `/workflows/${ids.workflow}/executions`, mine],
    ["a workflow's executions by status", () => `/workflows/${ids.workflow}/executions?status=WAITING`, mine / 4],
    ["a workflow's executions of one contact", () => `/workflows/${ids.workflow}/executions?contactId=${ids.contact}`, 1],
    ["a contact's executions", () => `/contacts/${ids.contact}/executions`, 1],
    ['events', () => '/events', mine],
    ['events by name', () => '/events?name=event-7', mine / 100],
    ['events of a contact', () => `/events?contactId=${ids.contact}`, 1],
    ['emails', () => '/emails', mine],
    ['emails of a contact', () => `/emails?contactId=${ids.contact}`, 1],
    ['emails of an execution', () => `/emails?executionId=${ids.execution}`, 1],
    ['segments with their member counts', () => '/segments', 1],
    ["a segment's members", () => `/segments/${ids.segment}/contacts`, mine],
  ];

  it.each(cases)('%s: index scans only, exact total', async (_what, path, total) => {
    const result = await plansOf(path());
    expect(result.total).toBe(total);
    expect(result.scans.length).toBeGreaterThan(0);
    expect(result.scans.filter((s) => !/Index|Bitmap/.test(s.node))).toEqual([]);
  });

  it("a segment's member count is exact", async () => {
    expect((await plansOf('/segments')).data.map((s) => s.memberCount)).toEqual([mine]);
  });

  it("an execution's step history reads its own rows by key", async () => {
    const result = await plansOf(`/workflows/${ids.workflow}/executions/${ids.execution}`);
    expect(result.scans.map((s) => s.index).filter((i) => i !== undefined)).toEqual(expect.arrayContaining(['step_executions_execution_id_seq_pk']));
    expect(result.scans.filter((s) => !/Index|Bitmap/.test(s.node))).toEqual([]);
  });
});
