/** One page of rows of a table: those matching `where` in `order`, with their total. */
import { count, type SQL } from 'drizzle-orm';
import type { AnyPgColumn, PgTable } from 'drizzle-orm/pg-core';
import type { Db } from './client';

/** A page of rows and how many rows match in all. */
export interface RowPage<R> {
  rows: R[];
  total: number;
}

/** The page size and 1-based page number a list asks for. */
export interface PageQuery {
  page: number;
  pageSize: number;
}

/** Reads page `q.page` of the rows of `table` matching `where`, sorted by `order`, and counts them all. */
export async function selectPage<T extends PgTable>(
  db: Db,
  table: T,
  where: SQL | undefined,
  order: (SQL | AnyPgColumn)[],
  q: PageQuery,
): Promise<RowPage<T['$inferSelect']>> {
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
  return { rows: rows as T['$inferSelect'][], total: total!.n };
}
