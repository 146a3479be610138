/**
 * A workflow as one document (SPEC §5.3): replace its graph in one request, export it, and see
 * where its contacts are (per-step counts as JSON, or as a Mermaid diagram).
 */
import { and, asc, eq } from 'drizzle-orm';
import type { Tx } from '../../db/client';
import type { z } from 'zod';
import { mermaidDiagram } from '../../core/mermaid';
import { transitions, workflows } from '../../db/schema';
import { exportWorkflow, isStructuralChange, stepRowsOf, writeGraph } from '../../db/workflow-document';
import { workflowStats } from '../../db/workflow-stats';
import type { ApiDeps } from '../deps';
import { notFound } from '../errors';
import { beginStructuralEdit, lockWorkflow } from '../locking';
import * as api from '../contracts/workflow-documents';
import type { WorkflowDocument } from '../schemas/documents';
import { route, type Route } from '../routing';
import { resolveDocument } from '../workflow-document-input';
import { workflowWithGraph } from '../workflow-view';

/** The project's workflow row, read without a lock; 404 for another project's or an unknown id. */
async function readWorkflow(tx: Tx, projectId: string, id: string) {
  const [wf] = await tx
    .select()
    .from(workflows)
    .where(and(eq(workflows.id, id), eq(workflows.projectId, projectId)));
  if (!wf) throw notFound('workflow');
  return wf;
}

export function workflowDocumentRoutes({ database }: ApiDeps): Route[] {
  const { db } = database;

  /** The workflow's steps with their counts, read in one snapshot. */
  async function stepsWithStats(projectId: string, id: string) {
    return db.transaction(
      async (tx) => {
        const wf = await readWorkflow(tx, projectId, id);
        const stepRows = await stepRowsOf(tx, wf.id);
        const edges = await tx.select().from(transitions).where(eq(transitions.workflowId, wf.id)).orderBy(asc(transitions.createdAt), asc(transitions.id));
        return { wf, stepRows, edges, stats: await workflowStats(tx, wf.id, stepRows) };
      },
      { isolationLevel: 'repeatable read', accessMode: 'read only' },
    );
  }

  return [
    route(api.replaceWorkflowGraph, async ({ project, params: { id }, body }) =>
      db.transaction(async (tx) => {
        const wf = await lockWorkflow(tx, project.id, id);
        const graph = await resolveDocument(tx, project.id, body, wf.id);
        // Only names and positions changed: cosmetic, allowed even while the workflow is locked.
        if (await isStructuralChange(tx, wf.id, graph)) await beginStructuralEdit(tx, project.id, wf.id);
        await writeGraph(tx, wf.id, graph);
        return workflowWithGraph(tx, wf.id);
      }),
    ),

    route(api.exportWorkflow, async ({ project, params: { id } }) =>
      db.transaction(
        async (tx) => {
          await readWorkflow(tx, project.id, id);
          // The stored enumerations (trigger and template types) are the document's; the response check holds them to it.
          return (await exportWorkflow(tx, id)) as z.input<typeof WorkflowDocument>;
        },
        { isolationLevel: 'repeatable read', accessMode: 'read only' },
      ),
    ),

    route(api.getWorkflowStats, async ({ project, params: { id } }) => {
      const { wf, stepRows, stats } = await stepsWithStats(project.id, id);
      const meta = new Map(stepRows.map((s) => [s.id, { key: s.key, type: s.type, name: s.name }]));
      return {
        workflowId: wf.id,
        version: wf.version,
        executions: stats.executions,
        conversions: stats.conversions,
        steps: stats.steps.map((s) => ({ ...meta.get(s.stepId)!, ...s })),
      };
    }),

    route(api.getWorkflowDiagram, async ({ project, params: { id }, res }) => {
      const { stepRows, edges, stats } = await stepsWithStats(project.id, id);
      const counts = new Map(stats.steps.map((s) => [s.stepId, s]));
      const text = mermaidDiagram(
        stepRows.map((s) => ({ id: s.id, key: s.key, type: s.type, name: s.name, active: counts.get(s.id)!.active, entered: counts.get(s.id)!.entered })),
        edges,
      );
      res.type('text/vnd.mermaid; charset=utf-8').send(text);
    }),
  ];
}
