/** One page of a list route in the SPEC §5 envelope. */
import type { SQL } from 'drizzle-orm';
import type { AnyPgColumn, PgTable } from 'drizzle-orm/pg-core';
import type { Db } from '../db/client';
import { selectPage, type PageQuery, type RowPage } from '../db/paging';
import { listOf } from './validate';

/** Serializes a page of rows read by a db/ function into the list envelope. */
export function pageOut<R, O>(page: RowPage<R>, q: PageQuery, out: (row: R) => O) {
  return listOf(page.rows.map(out), page.total, q.page, q.pageSize);
}

/** The rows of `table` matching `where` in `order`, as a list envelope (prefer a db/ function and pageOut). */
export async function listPage<T extends PgTable, O>(
  db: Db,
  table: T,
  where: SQL | undefined,
  order: (SQL | AnyPgColumn)[],
  q: PageQuery,
  out: (row: T['$inferSelect']) => O,
) {
  return pageOut(await selectPage(db, table, where, order, q), q, out);
}
