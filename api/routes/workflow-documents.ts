/**
 * A workflow as one document (SPEC §5.3): replace its graph in one request, export it, and see
 * where its contacts are (per-step counts as JSON, or as a Mermaid diagram).
 */
import { Router } from 'express';
import { and, asc, eq } from 'drizzle-orm';
import type { Tx } from '../../db/client';
import { mermaidDiagram } from '../../core/mermaid';
import { transitions, workflows } from '../../db/schema';
import { exportWorkflow, isStructuralChange, stepRowsOf, writeGraph } from '../../db/workflow-document';
import { workflowStats } from '../../db/workflow-stats';
import { projectOf } from '../auth';
import type { ApiDeps } from '../deps';
import { notFound } from '../errors';
import { beginStructuralEdit, lockWorkflow } from '../locking';
import { parse, pathId } from '../validate';
import { graphBody, resolveDocument } from '../workflow-document-input';
import { workflowWithGraph } from './workflows';

/** The project's workflow row, read without a lock; 404 for another project's or an unknown id. */
async function readWorkflow(tx: Tx, projectId: string, id: string) {
  const [wf] = await tx.select().from(workflows).where(and(eq(workflows.id, id), eq(workflows.projectId, projectId)));
  if (!wf) throw notFound('workflow');
  return wf;
}

export function workflowDocumentRoutes({ database }: ApiDeps): Router {
  const router = Router();
  const { db } = database;

  router.put('/workflows/:id/graph', async (req, res) => {
    const project = projectOf(req);
    const id = pathId(req.params.id, 'workflow');
    const body = parse(graphBody, req.body);
    const out = await db.transaction(async (tx) => {
      const wf = await lockWorkflow(tx, project.id, id);
      const graph = await resolveDocument(tx, project.id, body, wf.id);
      // Only names and positions changed: cosmetic, allowed even while the workflow is locked.
      if (await isStructuralChange(tx, wf.id, graph)) await beginStructuralEdit(tx, project.id, wf.id);
      await writeGraph(tx, wf.id, graph);
      return workflowWithGraph(tx, wf.id);
    });
    res.json(out);
  });

  router.get('/workflows/:id/export', async (req, res) => {
    const project = projectOf(req);
    const id = pathId(req.params.id, 'workflow');
    const out = await db.transaction(
      async (tx) => {
        await readWorkflow(tx, project.id, id);
        return exportWorkflow(tx, id);
      },
      { isolationLevel: 'repeatable read', accessMode: 'read only' },
    );
    res.json(out);
  });

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

  router.get('/workflows/:id/stats', async (req, res) => {
    const project = projectOf(req);
    const { wf, stepRows, stats } = await stepsWithStats(project.id, pathId(req.params.id, 'workflow'));
    const meta = new Map(stepRows.map((s) => [s.id, { key: s.key, type: s.type, name: s.name }]));
    res.json({ workflowId: wf.id, version: wf.version, executions: stats.executions, conversions: stats.conversions, steps: stats.steps.map((s) => ({ ...meta.get(s.stepId)!, ...s })) });
  });

  router.get('/workflows/:id/diagram', async (req, res) => {
    const project = projectOf(req);
    const { stepRows, edges, stats } = await stepsWithStats(project.id, pathId(req.params.id, 'workflow'));
    const counts = new Map(stats.steps.map((s) => [s.stepId, s]));
    const text = mermaidDiagram(
      stepRows.map((s) => ({ id: s.id, key: s.key, type: s.type, name: s.name, active: counts.get(s.id)!.active, entered: counts.get(s.id)!.entered })),
      edges,
    );
    res.type('text/vnd.mermaid; charset=utf-8').send(text);
  });

  return router;
}
