import { randomUUID } from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { onCommit, openDatabase, prepared, retryingDeadlocks, rowColumns, runPrepared, type Database } from '../../db/client';
import { contacts, projects } from '../../db/schema';
import { waitFor } from '../support/harness';
import { fileDatabaseUrl } from '../support/file-databases';

describe('transactions of the database handle', () => {
  let database: Database;

  beforeAll(() => {
    // One connection: a client that is not given back shows at once as the next transaction's timeout.
    database = openDatabase(fileDatabaseUrl(), { max: 1 });
  });
  afterAll(async () => {
    await database?.close();
  });

  it('runs onCommit callbacks after the commit, never after a rollback; a savepoint that rolls back drops its own', async () => {
    const ran: string[] = [];
    await database.db.transaction(async (tx) => {
      onCommit(tx, () => ran.push('outer'));
      await tx.transaction(async (sp) => {
        onCommit(sp, () => ran.push('savepoint kept'));
      });
      await tx
        .transaction(async (sp) => {
          onCommit(sp, () => ran.push('savepoint rolled back'));
          throw new Error('undo the savepoint');
        })
        .catch(() => undefined);
      expect(ran).toEqual([]);
    });
    expect(ran).toEqual(['outer', 'savepoint kept']);

    await expect(
      database.db.transaction(async (tx) => {
        onCommit(tx, () => ran.push('rolled back'));
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    onCommit(database.db, () => ran.push('no transaction: at once'));
    expect(ran).toEqual(['outer', 'savepoint kept', 'no transaction: at once']);
  });

  it('gives its connection back when BEGIN fails (drizzle alone keeps it, and the pool runs dry)', async () => {
    await expect(database.db.transaction(async () => undefined, { isolationLevel: 'no such level' as never })).rejects.toThrow(/begin/);
    const [row] = (await database.db.transaction((tx) => tx.execute(sql`select 1 as one`))).rows;
    expect(row).toEqual({ one: 1 });
  });

  it('runs a prepared statement in the transaction, or savepoint, of the handle it is given', async () => {
    // With one connection, a statement sent on the pool instead of the transaction's client would wait for ever.
    await database.pool.query('create temp table if not exists prepared_probe (n int)');
    const insert = prepared('test.prepared-probe-insert', 'insert into prepared_probe (n) values ($1) returning n');
    const count = prepared('test.prepared-probe-count', 'select count(*)::int as n from prepared_probe');
    await expect(
      database.db.transaction(async (tx) => {
        expect(await runPrepared(tx, insert, [1])).toEqual([{ n: 1 }]);
        await expect(
          tx.transaction(async (sp) => {
            expect(await runPrepared(sp, insert, [2])).toEqual([{ n: 2 }]);
            expect(await runPrepared(sp, count, [])).toEqual([{ n: 2 }]);
            throw new Error('undo the savepoint');
          }),
        ).rejects.toThrow('undo the savepoint');
        expect(await runPrepared(tx, count, [])).toEqual([{ n: 1 }]);
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect(await runPrepared(database.db, count, [])).toEqual([{ n: 0 }]);
    expect(() => prepared('test.prepared-probe-count', 'select 1')).toThrow('declared twice with different text');
  });

  it('gives whole rows through rowColumns exactly as drizzle reads them', async () => {
    const { db } = database;
    const [project] = await db
      .insert(projects)
      .values({ name: 'rows', publicKey: `pk_${randomUUID()}`, secretKeyHash: randomUUID() })
      .returning();
    const [contact] = await db
      .insert(contacts)
      .values({ projectId: project!.id, email: 'rows@example.com', data: { plan: 'pro', n: 3, nested: { a: [1, 'b'] } }, tags: ['vip', 'a,b'] })
      .returning();
    const byId = prepared('test.contact-row', `select ${rowColumns(contacts)} from contacts where id = $1`);
    const [read] = await runPrepared<typeof contact>(db, byId, [contact!.id]);
    expect(read).toEqual(contact);
    expect(read!.createdAt).toBeInstanceOf(Date);
    await db.delete(projects).where(eq(projects.id, project!.id));
  });

  it('runs a transaction again when Postgres aborts it to break a deadlock (retryingDeadlocks)', async () => {
    const table = `deadlock_${randomUUID().replaceAll('-', '')}`;
    const other = new pg.Client({ connectionString: fileDatabaseUrl() });
    const observer = new pg.Client({ connectionString: fileDatabaseUrl() });
    await other.connect();
    await observer.connect();
    await other.query(`create table ${table} (id int primary key)`);
    await other.query(`insert into ${table} values (1), (2)`);
    try {
      // The other transaction holds row 1; ours takes row 2, then waits for row 1; the other then
      // waits for row 2. Postgres aborts ours, whose wait began first (its deadlock_timeout ends
      // first); run again, it waits for the other's commit and goes through.
      await other.query('begin');
      await other.query(`select 1 from ${table} where id = 1 for update`);
      const { rows } = await other.query('select pg_backend_pid() as pid');
      let runs = 0;
      const ours = retryingDeadlocks(() =>
        database.db.transaction(async (tx) => {
          runs += 1;
          await tx.execute(sql.raw(`select 1 from ${table} where id = 2 for update`));
          await tx.execute(sql.raw(`select 1 from ${table} where id = 1 for update`));
          return runs;
        }),
      );
      await waitFor(
        async () => (await observer.query('select 1 from pg_stat_activity where $1 = any(pg_blocking_pids(pid))', [rows[0].pid])).rowCount === 1,
        'our transaction to wait for row 1',
      );
      await other.query(`select 1 from ${table} where id = 2 for update`);
      await other.query('commit');
      expect(await ours).toBe(2);
      // Anything else fails at once.
      await expect(retryingDeadlocks(() => Promise.reject(new Error('not a deadlock')))).rejects.toThrow('not a deadlock');
    } finally {
      await other.query('rollback').catch(() => undefined);
      await other.query(`drop table ${table}`);
      await other.end();
      await observer.end();
    }
  });
});
