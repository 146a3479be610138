import { afterAll, describe, expect, it } from 'vitest';
import { Client } from 'pg';
import { runMigrations } from '../../db/migrate';

const PG_BASE = process.env.TRELLIS_TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432';

describe('migrations at start', () => {
  const name = `trellis_migrate_${process.pid}_${Date.now()}`;

  afterAll(async () => {
    const admin = new Client({ connectionString: `${PG_BASE}/postgres` });
    await admin.connect();
    await admin.query(`drop database if exists ${name} with (force)`);
    await admin.end();
  });

  it('are safe when several processes start at once, and idempotent afterwards', async () => {
    const admin = new Client({ connectionString: `${PG_BASE}/postgres` });
    await admin.connect();
    await admin.query(`create database ${name}`);
    await admin.end();
    const url = `${PG_BASE}/${name}`;

    await Promise.all([runMigrations(url), runMigrations(url), runMigrations(url), runMigrations(url)]);
    await runMigrations(url);

    const db = new Client({ connectionString: url });
    await db.connect();
    const applied = await db.query('select count(*)::int as n from drizzle.__drizzle_migrations');
    const tables = await db.query(`select table_name from information_schema.tables where table_schema = 'public' order by table_name`);
    await db.end();
    const files = (await import('node:fs')).readdirSync('db/migrations').filter((f) => f.endsWith('.sql'));
    expect(applied.rows[0].n).toBe(files.length);
    expect(tables.rows.map((r) => r.table_name)).toEqual(
      expect.arrayContaining(['contacts', 'emails', 'events', 'executions', 'outbox', 'projects', 'step_executions', 'steps', 'templates', 'transitions', 'workflow_versions', 'workflows']),
    );
  });
});
