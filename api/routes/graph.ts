/** Steps and transitions of a workflow (SPEC §5.4): validated configs, graph rules, locking, splice. */
import { isDeepStrictEqual } from 'node:util';
import type { StepType } from '../../core/graph';
import { spliceStep, validateGraph, validateTransition } from '../../core/graph-rules';
import { parseStepConfig } from '../../core/step-configs';
import type { Tx } from '../../db/client';
import { loadGraph } from '../../db/enrol';
import { newStepKey } from '../../db/workflow-document';
import { startTargetProblem } from '../../db/start-target';
import { deleteStep, deleteTransition, findStep as findStepRow, insertStep, insertTransition, shareTemplate, updateStep } from '../../db/graph';
import * as api from '../contracts/graph';
import type { ApiDeps } from '../deps';
import { badRequest, notFound } from '../errors';
import { beginStructuralEdit, lockWorkflow } from '../locking';
import { route, type Route } from '../routing';
import { stepOut, transitionOut } from '../serialize';

const DEFAULT_NAMES: Record<StepType, string> = {
  TRIGGER: 'Trigger',
  SEND_EMAIL: 'Send email',
  DELAY: 'Delay',
  WAIT_FOR_EVENT: 'Wait for event',
  CONDITION: 'Condition',
  WEBHOOK: 'Webhook',
  UPDATE_CONTACT: 'Update contact',
  EXIT: 'Exit',
  SPLIT: 'Split',
  TRIGGER_EVENT: 'Trigger event',
  START_WORKFLOW: 'Start workflow',
  WAIT_UNTIL: 'Wait until',
  SEND_SMS: 'Send text message',
};

/**
 * Validates a step config for its type, including that a SEND_EMAIL template exists in the project
 * and that a START_WORKFLOW names another workflow of the project.
 */
async function validConfig(tx: Tx, projectId: string, workflowId: string, type: StepType, config: unknown): Promise<Record<string, unknown>> {
  const parsed = parseStepConfig(type, config ?? {});
  if (!parsed.ok) throw badRequest(`invalid ${type} config: ${parsed.issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, parsed.issues);
  if (type === 'START_WORKFLOW') {
    const problem = await startTargetProblem(tx, projectId, workflowId, parsed.config.workflowId as string);
    if (problem) throw badRequest(problem, [{ path: 'config.workflowId', message: problem }]);
  }
  if (type === 'SEND_EMAIL') {
    const templateId = parsed.config.templateId as string;
    // Shared lock: the template cannot be deleted until this edit commits.
    if (!(await shareTemplate(tx, projectId, templateId)))
      throw badRequest('template not found', [{ path: 'config.templateId', message: 'no such template in this project' }]);
  }
  return parsed.config;
}

async function findStep(tx: Tx, workflowId: string, stepId: string) {
  const s = await findStepRow(tx, workflowId, stepId);
  if (!s) throw notFound('step');
  return s;
}

export function graphRoutes({ database }: ApiDeps): Route[] {
  const { db } = database;
  return [
    route(api.createStep, async ({ project, params: { id }, body }) => {
      const row = await db.transaction(async (tx) => {
        const wf = await beginStructuralEdit(tx, project.id, id);
        if (body.type === 'TRIGGER')
          throw badRequest('a workflow has exactly one TRIGGER step, created with it', [{ path: 'type', message: 'TRIGGER cannot be added' }]);
        const config = await validConfig(tx, project.id, wf.id, body.type, body.config);
        return insertStep(tx, {
          workflowId: wf.id,
          key: await newStepKey(tx, wf.id, body.type),
          type: body.type,
          name: body.name ?? DEFAULT_NAMES[body.type],
          config,
          position: body.position ?? null,
        });
      });
      return stepOut(row);
    }),

    route(api.updateStep, async ({ project, params: { id, stepId }, body }) => {
      const row = await db.transaction(async (tx) => {
        const wf = await lockWorkflow(tx, project.id, id);
        const step = await findStep(tx, wf.id, stepId);
        const config = body.config !== undefined ? await validConfig(tx, project.id, wf.id, step.type as StepType, body.config) : undefined;
        // A config change is structural; name, position and restating the current config are cosmetic.
        if (config !== undefined && !isDeepStrictEqual(config, step.config)) {
          await beginStructuralEdit(tx, project.id, id);
          // A SPLIT's branch names label its transitions: renaming one must not strand a transition.
          if (step.type === 'SPLIT') {
            const graph = await loadGraph(tx, wf.id, wf.version);
            const problem = validateGraph({ steps: graph.steps.map((s) => (s.id === step.id ? { ...s, config } : s)), transitions: graph.transitions });
            if (problem) throw badRequest(problem, [{ path: 'config.branches', message: problem }]);
          }
        }
        const changes = {
          ...(body.name !== undefined ? { name: body.name } : {}),
          ...(body.position !== undefined ? { position: body.position } : {}),
          ...(config !== undefined ? { config } : {}),
        };
        // An empty edit changes nothing (and an UPDATE needs something to set).
        if (Object.keys(changes).length === 0) return step;
        return updateStep(tx, step.id, changes);
      });
      return stepOut(row);
    }),

    route(api.deleteStep, async ({ project, params: { id, stepId }, query }) => {
      const splice = query.splice === 'true';
      await db.transaction(async (tx) => {
        const wf = await beginStructuralEdit(tx, project.id, id);
        const step = await findStep(tx, wf.id, stepId);
        if (step.type === 'TRIGGER') throw badRequest('the TRIGGER step cannot be deleted', [{ path: 'stepId', message: 'TRIGGER cannot be deleted' }]);
        if (splice) {
          const graph = await loadGraph(tx, wf.id, wf.version);
          const plan = spliceStep(graph, step.id);
          if (!plan.ok) throw badRequest(plan.message);
          await deleteStep(tx, wf.id, step.id, plan);
        } else await deleteStep(tx, wf.id, step.id);
      });
    }),

    route(api.createTransition, async ({ project, params: { id }, body }) => {
      const row = await db.transaction(async (tx) => {
        const wf = await beginStructuralEdit(tx, project.id, id);
        const graph = await loadGraph(tx, wf.id, wf.version);
        const draft = { fromStepId: body.fromStepId, toStepId: body.toStepId, branch: body.branch ?? null };
        const problem = validateTransition(graph, draft);
        if (problem) throw badRequest(problem, [{ path: '', message: problem }]);
        return insertTransition(tx, wf.id, draft);
      });
      return transitionOut(row);
    }),

    route(api.deleteTransition, async ({ project, params: { id, transitionId } }) => {
      await db.transaction(async (tx) => {
        const wf = await beginStructuralEdit(tx, project.id, id);
        if (!(await deleteTransition(tx, wf.id, transitionId))) throw notFound('transition');
      });
    }),
  ];
}
