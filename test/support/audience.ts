/**
 * Audiences for enrolment tests: many contacts at once, written straight into Postgres, and segments
 * over them created through the segments API.
 */
import { randomUUID } from 'node:crypto';
import { Client as PgClient } from 'pg';
import { createScratchDatabase, type ScratchDatabase } from '../../scripts/local-servers';
import { waitFor, type Api } from './harness';

const PG_BASE = process.env.TRELLIS_TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432';

/**
 * A database of the test file's own (Trellis migrates it at start). Schedule tests need one: every
 * Trellis process reconciles the schedules of every SCHEDULE workflow in its database onto its own
 * task queue, and each test file's Trellis has another.
 */
export function privateDatabase(): Promise<ScratchDatabase> {
  return createScratchDatabase(PG_BASE, 'trellis_private');
}

async function withPg<T>(url: string, fn: (pg: PgClient) => Promise<T>): Promise<T> {
  const pg = new PgClient({ connectionString: url });
  await pg.connect();
  try {
    return await fn(pg);
  } finally {
    await pg.end();
  }
}

/** Inserts `count` contacts `<prefix>-<i>@audience.test` and returns their ids in order of i. */
export function insertContacts(url: string, projectId: string, count: number, options: { prefix?: string; subscribed?: boolean } = {}): Promise<string[]> {
  const prefix = options.prefix ?? randomUUID().slice(0, 8);
  return withPg(url, async (pg) => {
    const { rows } = await pg.query<{ id: string }>(
      `insert into contacts (project_id, email, subscribed)
       select $1, $2 || '-' || i || '@audience.test', $3 from generate_series(1, $4) as i
       order by i returning id`,
      [projectId, prefix, options.subscribed ?? true, count],
    );
    return rows.map((r) => r.id);
  });
}

/**
 * Creates a segment through the API whose members are `memberIds`, and waits until it is computed;
 * returns its id. The members are first given (in one statement: audiences run to hundreds) a data
 * key that the segment's filter asks for, so membership stays true when they change.
 */
export async function createSegment(api: Api, url: string, memberIds: string[]): Promise<string> {
  const tag = randomUUID().slice(0, 8);
  const key = `member_${tag}`;
  await withPg(url, (pg) => pg.query(`update contacts set data = data || jsonb_build_object($1::text, true) where id = any($2::uuid[])`, [key, memberIds]));
  const segment = await api.client.createSegment({ body: { name: `segment-${tag}`, filter: { field: `data.${key}`, operator: 'exists' } } });
  await waitFor(async () => {
    const current = await api.client.getSegment({ params: { id: segment.id } });
    return !current.computing && current.memberCount === memberIds.length;
  }, `segment ${segment.id} to be computed with ${memberIds.length} members`);
  return segment.id;
}
