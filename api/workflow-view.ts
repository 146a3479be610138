/** A workflow with its graph as the API answers it (GET /workflows/:id, creation, import, copy). */
import type { Tx } from '../db/client';
import { loadWorkflowWithGraph } from '../db/workflows';
import { notFound } from './errors';
import { stepOut, transitionOut, workflowOut } from './serialize';

/** The workflow `id` with its steps and transitions; 404 when there is none. */
export async function workflowWithGraph(tx: Tx, id: string) {
  const loaded = await loadWorkflowWithGraph(tx, id);
  if (!loaded) throw notFound('workflow');
  return { ...workflowOut(loaded.workflow), steps: loaded.steps.map(stepOut), transitions: loaded.transitions.map(transitionOut) };
}
