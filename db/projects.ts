/** Projects (SPEC §3): created with their keys by the admin API. */
import { desc } from 'drizzle-orm';
import type { Db } from './client';
import { type PageQuery, type RowPage, selectPage } from './paging';
import { projects } from './schema';

export type ProjectRow = typeof projects.$inferSelect;

/** Inserts a project with its public key and its secret key's hash. */
export async function insertProject(db: Db, values: { name: string; publicKey: string; secretKeyHash: string }): Promise<ProjectRow> {
  const [p] = await db.insert(projects).values(values).returning();
  return p!;
}

/** A page of every project, newest first. */
export function projectPage(db: Db, q: PageQuery): Promise<RowPage<ProjectRow>> {
  return selectPage(db, projects, undefined, [desc(projects.createdAt), desc(projects.id)], q);
}
