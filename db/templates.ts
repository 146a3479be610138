/** Email templates (SPEC §5.2) and the queries about them. */
import { and, desc, eq, ilike, sql } from 'drizzle-orm';
import type { Db, Tx } from './client';
import { type PageQuery, type RowPage, selectPage } from './paging';
import { steps, templates, workflows } from './schema';
import { likePattern } from './search';

export type TemplateRow = typeof templates.$inferSelect;
type TemplateFields = Omit<typeof templates.$inferInsert, 'id' | 'projectId' | 'createdAt' | 'updatedAt'>;

/** Names of the project's workflows with a SEND_EMAIL step that sends the template, each once. */
export async function workflowsUsingTemplate(tx: Tx, projectId: string, templateId: string): Promise<string[]> {
  const users = await tx
    .select({ name: workflows.name })
    .from(steps)
    .innerJoin(workflows, eq(workflows.id, steps.workflowId))
    .where(and(eq(workflows.projectId, projectId), eq(steps.type, 'SEND_EMAIL'), sql`${steps.config}->>'templateId' = ${templateId}`));
  return [...new Set(users.map((u) => u.name))];
}

export async function insertTemplate(db: Db, projectId: string, fields: TemplateFields): Promise<TemplateRow> {
  const [row] = await db
    .insert(templates)
    .values({ ...fields, projectId })
    .returning();
  return row!;
}

/** A page of the project's templates, newest first, whose name holds `search` when given. */
export function templatePage(db: Db, projectId: string, q: PageQuery & { search?: string }): Promise<RowPage<TemplateRow>> {
  const where = and(eq(templates.projectId, projectId), q.search ? ilike(templates.name, likePattern(q.search)) : undefined);
  return selectPage(db, templates, where, [desc(templates.createdAt), desc(templates.id)], q);
}

export async function getTemplate(db: Db, projectId: string, id: string): Promise<TemplateRow | undefined> {
  const [row] = await db
    .select()
    .from(templates)
    .where(and(eq(templates.id, id), eq(templates.projectId, projectId)));
  return row;
}

/** Applies `fields`; undefined when the project has no such template. */
export async function updateTemplate(db: Db, projectId: string, id: string, fields: Partial<TemplateFields>): Promise<TemplateRow | undefined> {
  const [row] = await db
    .update(templates)
    .set({ ...fields, updatedAt: sql`now()` })
    .where(and(eq(templates.id, id), eq(templates.projectId, projectId)))
    .returning();
  return row;
}

/**
 * Deletes the template unless a workflow's graph sends it: answers `missing`, the names of the
 * workflows that use it, or `deleted`. The template's row is locked meanwhile.
 */
export function deleteUnusedTemplate(db: Db, projectId: string, id: string): Promise<{ deleted: true } | { missing: true } | { usedBy: string[] }> {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .select({ id: templates.id })
      .from(templates)
      .where(and(eq(templates.id, id), eq(templates.projectId, projectId)))
      .for('update');
    if (!row) return { missing: true };
    const names = await workflowsUsingTemplate(tx, projectId, id);
    if (names.length) return { usedBy: names };
    await tx.delete(templates).where(eq(templates.id, id));
    return { deleted: true };
  });
}
