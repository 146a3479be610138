import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { onCommit, openDatabase, type Database } from '../../db/client';

describe('transactions of the database handle', () => {
  let database: Database;

  beforeAll(() => {
    // One connection: a client that is not given back shows at once as the next transaction's timeout.
    database = openDatabase(inject('databaseUrl'), { max: 1 });
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
});
