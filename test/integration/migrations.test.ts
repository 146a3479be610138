import fs from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { Client } from 'pg';
import { runMigrations } from '../../db/migrate';
import { createScratchDatabase, type ScratchDatabase } from '../../scripts/local-servers';

const PG_BASE = process.env.TRELLIS_TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432';

describe('migrations at start', () => {
  let scratch: ScratchDatabase | undefined;

  afterAll(async () => {
    await scratch?.drop();
  });

  it('are safe when several processes start at once, and idempotent afterwards', async () => {
    scratch = await createScratchDatabase(PG_BASE, 'trellis_migrate');
    const { url } = scratch;

    await Promise.all([runMigrations(url), runMigrations(url), runMigrations(url), runMigrations(url)]);
    await runMigrations(url);

    const db = new Client({ connectionString: url });
    await db.connect();
    const applied = await db.query('select count(*)::int as n from drizzle.__drizzle_migrations');
    const tables = await db.query(`select table_name from information_schema.tables where table_schema = 'public' order by table_name`);
    await db.end();
    const files = fs.readdirSync('db/migrations').filter((f) => f.endsWith('.sql'));
    expect(applied.rows[0].n).toBe(files.length);
    expect(tables.rows.map((r) => r.table_name)).toEqual(
      expect.arrayContaining([
        'contacts',
        'emails',
        'events',
        'executions',
        'outbox',
        'projects',
        'step_executions',
        'steps',
        'templates',
        'transitions',
        'workflow_versions',
        'workflows',
      ]),
    );
  });
});
