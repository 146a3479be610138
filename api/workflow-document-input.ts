/** Reading a workflow document from a request: its templates, its graph, every problem with its path. */
import { and, eq, inArray } from 'drizzle-orm';
import type { z } from 'zod';
import { checkGraphDocument, type DocumentTransition, type GraphProblem } from '../core/workflow-document';
import type { Tx } from '../db/client';
import { templates } from '../db/schema';
import type { ResolvedStep } from '../db/workflow-document';
import { unknownWorkflowIds } from '../db/start-target';
import { badRequest } from './errors';
import type { graphBody } from './schemas/documents';
import { templateSyntaxIssues } from './template-input';

export type GraphBody = z.infer<typeof graphBody>;

/**
 * Checks a document's graph against the project and creates the templates it embeds; answers the
 * steps with every template resolved to an id. Throws 400 naming every problem.
 */
export async function resolveDocument(
  tx: Tx,
  projectId: string,
  doc: GraphBody,
  selfId?: string,
): Promise<{ steps: ResolvedStep[]; transitions: DocumentTransition[] }> {
  const embedded = doc.templates ?? [];
  const problems: GraphProblem[] = [];
  const keys = new Set<string>();
  embedded.forEach((t, i) => {
    if (keys.has(t.key)) problems.push({ path: `templates.${i}.key`, message: `duplicate key "${t.key}"` });
    keys.add(t.key);
    problems.push(...templateSyntaxIssues(t, `templates.${i}.`));
  });
  const checked = checkGraphDocument(doc, keys);
  if (!checked.ok) problems.push(...checked.problems);
  if (checked.ok) {
    // A template named by id must be the project's own.
    const byId = checked.steps.map((s, i) => ({ i, id: s.config.templateId })).filter((r): r is { i: number; id: string } => typeof r.id === 'string');
    if (byId.length) {
      const found = new Set(
        (
          await tx
            .select({ id: templates.id })
            .from(templates)
            .where(
              and(
                eq(templates.projectId, projectId),
                inArray(
                  templates.id,
                  byId.map((r) => r.id),
                ),
              ),
            )
        ).map((t) => t.id),
      );
      for (const r of byId)
        if (!found.has(r.id))
          problems.push({
            path: `steps.${doc.steps.findIndex((s) => s.key === checked.steps[r.i]!.key)}.config.templateId`,
            message: 'no such template in this project',
          });
    }
    problems.push(...(await startTargetProblems(tx, projectId, checked.steps, selfId)));
  }
  if (problems.length || !checked.ok) {
    throw badRequest(`invalid workflow document: ${problems.map((p) => `${p.path || '(graph)'}: ${p.message}`).join('; ')}`, problems);
  }
  const ids = new Map<string, string>();
  for (const t of embedded) {
    const { key, ...content } = t;
    const [row] = await tx
      .insert(templates)
      .values({ ...content, type: content.type ?? 'MARKETING', projectId })
      .returning({ id: templates.id });
    ids.set(key, row!.id);
  }
  const steps = checked.steps.map(({ templateKey, ...step }) =>
    templateKey ? { ...step, config: { ...step.config, templateId: ids.get(templateKey)! } } : step,
  );
  return { steps, transitions: doc.transitions };
}

/** START_WORKFLOW steps must name another workflow of the project (the document's steps are in order). */
async function startTargetProblems(
  tx: Tx,
  projectId: string,
  steps: { type: string; config: Record<string, unknown> }[],
  selfId: string | undefined,
): Promise<GraphProblem[]> {
  const targets = steps
    .map((s, i) => ({ i, id: s.type === 'START_WORKFLOW' ? (s.config.workflowId as string) : undefined }))
    .filter((t): t is { i: number; id: string } => t.id !== undefined);
  const unknown = await unknownWorkflowIds(
    tx,
    projectId,
    targets.map((t) => t.id),
  );
  return targets.flatMap((t) => {
    const path = `steps.${t.i}.config.workflowId`;
    if (t.id === selfId) return [{ path, message: 'a workflow cannot start itself' }];
    return unknown.has(t.id) ? [{ path, message: 'no such workflow in this project' }] : [];
  });
}
