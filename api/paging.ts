/** One page of a list route: the rows matching `where` in `order`, with the total (SPEC §5 envelope). */
import { count, type SQL } from 'drizzle-orm';
import type { AnyPgColumn, PgTable } from 'drizzle-orm/pg-core';
import type { Db } from '../db/client';
import { listOf } from './validate';

export async function listPage<T extends PgTable, O>(
  db: Db,
  table: T,
  where: SQL | undefined,
  order: (SQL | AnyPgColumn)[],
  q: { page: number; pageSize: number },
  out: (row: T['$inferSelect']) => O,
) {
  const [[total], rows] = await Promise.all([
    db
      .select({ n: count() })
      .from(table as PgTable)
      .where(where),
    db
      .select()
      .from(table as PgTable)
      .where(where)
      .orderBy(...order)
      .limit(q.pageSize)
      .offset((q.page - 1) * q.pageSize),
  ]);
  return listOf((rows as T['$inferSelect'][]).map(out), total!.n, q.page, q.pageSize);
}
