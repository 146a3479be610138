/**
 * A workflow as one document (SPEC §5.3): replace its graph in one request, export it, and see
 * where its contacts are (per-step counts as JSON, or as a Mermaid diagram).
 */
import type { z } from 'zod';
import { mermaidDiagram } from '../../core/mermaid';
import { isStructuralChange, writeGraph } from '../../db/workflow-document';
import { exportProjectWorkflow, workflowWithStepStats } from '../../db/workflows';
import type { ApiDeps } from '../deps';
import { notFound } from '../errors';
import { beginStructuralEdit, lockWorkflow } from '../locking';
import * as api from '../contracts/workflow-documents';
import type { WorkflowDocument } from '../schemas/documents';
import { route, type Route } from '../routing';
import { resolveDocument } from '../workflow-document-input';
import { workflowWithGraph } from '../workflow-view';

export function workflowDocumentRoutes({ database }: ApiDeps): Route[] {
  const { db } = database;

  /** The workflow's steps with their counts, read in one snapshot; 404 for another project's or an unknown id. */
  async function stepsWithStats(projectId: string, id: string) {
    const found = await workflowWithStepStats(db, projectId, id);
    if (!found) throw notFound('workflow');
    return found;
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

    route(api.exportWorkflow, async ({ project, params: { id } }) => {
      const document = await exportProjectWorkflow(db, project.id, id);
      if (!document) throw notFound('workflow');
      // The stored enumerations (trigger and template types) are the document's; the response check holds them to it.
      return document as z.input<typeof WorkflowDocument>;
    }),

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
