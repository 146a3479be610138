/** /workflows (SPEC §5.3): definitions, triggers, duplicate and delete. */
import { isDeepStrictEqual } from 'node:util';
import { Router } from 'express';
import { and, asc, desc, eq, ilike, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Tx } from '../../db/client';
import { steps, transitions, workflows, executions } from '../../db/schema';
import { projectOf } from '../auth';
import type { ApiDeps } from '../deps';
import { listPage } from '../paging';
import { badRequest, conflict, notFound } from '../errors';
import { activeExecutions, assertUnlocked, lockWorkflow } from '../locking';
import { stepOut, transitionOut, workflowOut } from '../serialize';
import { TRIGGER_KEY } from '../../core/workflow-document';
import { writeGraph } from '../../db/workflow-document';
import { graphBody, resolveDocument } from '../workflow-document-input';
import { pagination, parse, pathId } from '../validate';
import { likePattern } from './contacts';

const eventName = z.string().trim().min(1).max(200);
const TRIGGER_TYPES = ['EVENT', 'MANUAL', 'SCHEDULE'] as const;
/** `{name, eventName}`, or a whole workflow document (SPEC §5.3): trigger, steps, transitions, templates. */
const createWorkflow = z.strictObject({
  name: z.string().trim().min(1).max(200),
  eventName: eventName.optional(),
  description: z.string().max(2000).nullable().optional(),
  allowReentry: z.boolean().optional(),
  triggerType: z.enum(TRIGGER_TYPES).optional(),
  triggerConfig: z.record(z.string(), z.unknown()).optional(),
  steps: graphBody.shape.steps.optional(),
  transitions: graphBody.shape.transitions.optional(),
  templates: graphBody.shape.templates,
});
const patchWorkflow = z.strictObject({
  name: z.string().trim().min(1).max(200).optional(),
  description: z.string().max(2000).nullable().optional(),
  enabled: z.boolean().optional(),
  archived: z.boolean().optional(),
  allowReentry: z.boolean().optional(),
  triggerType: z.enum(TRIGGER_TYPES).optional(),
  triggerConfig: z.record(z.string(), z.unknown()).optional(),
});
const triggerConfigs = {
  EVENT: z.strictObject({ eventName }),
  MANUAL: z.strictObject({}),
} as const;
const listQuery = z.object({
  search: z.string().optional(),
  enabled: z.enum(['true', 'false']).optional(),
  archived: z.enum(['true', 'false']).optional(),
  ...pagination,
});

/** The trigger of a new workflow: `eventName` alone, or `triggerType` with its `triggerConfig`. */
function newTrigger(body: z.infer<typeof createWorkflow>) {
  const type = body.triggerType ?? 'EVENT';
  if (type === 'SCHEDULE') throw badRequest('SCHEDULE triggers are not available yet', [{ path: 'triggerType', message: 'SCHEDULE is not available yet' }]);
  if (body.eventName !== undefined && (type !== 'EVENT' || body.triggerConfig !== undefined)) {
    throw badRequest('give eventName alone, or triggerType with triggerConfig', [{ path: 'eventName', message: 'give eventName alone, or triggerType with triggerConfig' }]);
  }
  if (type === 'EVENT' && body.eventName === undefined && body.triggerConfig === undefined) {
    throw badRequest('an EVENT workflow needs its eventName', [{ path: 'eventName', message: 'eventName is required' }]);
  }
  const config = parse(triggerConfigs[type], body.triggerConfig ?? (type === 'EVENT' ? { eventName: body.eventName } : {}), 'triggerConfig') as Record<string, unknown>;
  const event = type === 'EVENT' ? (config as { eventName: string }).eventName : null;
  return { triggerType: type, triggerConfig: config, triggerEvent: event };
}

/** The workflow with its graph, as GET /workflows/:id shows it. */
export async function workflowWithGraph(tx: Tx, id: string) {
  const [wf] = await tx.select().from(workflows).where(eq(workflows.id, id));
  if (!wf) throw notFound('workflow');
  const stepRows = await tx.select().from(steps).where(eq(steps.workflowId, id)).orderBy(asc(steps.createdAt), asc(steps.id));
  const transitionRows = await tx.select().from(transitions).where(eq(transitions.workflowId, id)).orderBy(asc(transitions.createdAt), asc(transitions.id));
  return { ...workflowOut(wf), steps: stepRows.map(stepOut), transitions: transitionRows.map(transitionOut) };
}

export function workflowRoutes({ database }: ApiDeps): Router {
  const router = Router();
  const { db } = database;

  router.post('/workflows', async (req, res) => {
    const project = projectOf(req);
    const body = parse(createWorkflow, req.body);
    const trigger = newTrigger(body);
    const out = await db.transaction(async (tx) => {
      const graph = await resolveDocument(tx, project.id, { steps: body.steps ?? [], transitions: body.transitions ?? [], templates: body.templates });
      const [wf] = await tx
        .insert(workflows)
        .values({
          projectId: project.id,
          name: body.name,
          description: body.description ?? null,
          ...trigger,
          allowReentry: body.allowReentry ?? false,
        })
        .returning();
      await tx.insert(steps).values({ workflowId: wf!.id, key: TRIGGER_KEY, type: 'TRIGGER', name: 'Trigger', config: {} });
      await writeGraph(tx, wf!.id, graph);
      return workflowWithGraph(tx, wf!.id);
    });
    res.status(201).json(out);
  });

  router.get('/workflows', async (req, res) => {
    const project = projectOf(req);
    const q = parse(listQuery, req.query, 'query');
    const where = and(
      eq(workflows.projectId, project.id),
      q.search ? ilike(workflows.name, likePattern(q.search)) : undefined,
      q.enabled ? eq(workflows.enabled, q.enabled === 'true') : undefined,
      // Archived workflows are listed only when asked for, and then alone.
      eq(workflows.archived, q.archived === 'true'),
    );
    res.json(await listPage(db, workflows, where, [desc(workflows.createdAt), desc(workflows.id)], q, workflowOut));
  });

  router.get('/workflows/:id', async (req, res) => {
    const project = projectOf(req);
    const id = pathId(req.params.id, 'workflow');
    const [wf] = await db.select({ id: workflows.id }).from(workflows).where(and(eq(workflows.id, id), eq(workflows.projectId, project.id)));
    if (!wf) throw notFound('workflow');
    res.json(await workflowWithGraph(db, id));
  });

  router.patch('/workflows/:id', async (req, res) => {
    const project = projectOf(req);
    const id = pathId(req.params.id, 'workflow');
    const body = parse(patchWorkflow, req.body);
    const out = await db.transaction(async (tx) => {
      const wf = await lockWorkflow(tx, project.id, id);
      const archived = body.archived ?? wf.archived;
      if (body.enabled === true && archived) {
        throw conflict('an archived workflow cannot be enabled; unarchive it first (PATCH {"archived": false})', 'CONFLICT', [
          { path: 'enabled', message: 'the workflow is archived' },
        ]);
      }
      // Archiving disables; unarchiving leaves the workflow disabled until it is enabled.
      const enabled = body.archived === true ? false : body.enabled;
      const structural = body.triggerType !== undefined || body.triggerConfig !== undefined;
      let trigger: { triggerType: string; triggerConfig: Record<string, unknown>; triggerEvent: string | null } | undefined;
      if (structural) {
        const type = body.triggerType ?? wf.triggerType;
        if (type === 'SCHEDULE') throw badRequest('SCHEDULE triggers are not available yet', [{ path: 'triggerType', message: 'SCHEDULE is not available yet' }]);
        const schema = triggerConfigs[type as keyof typeof triggerConfigs];
        const config = parse(schema, body.triggerConfig ?? (type === wf.triggerType ? wf.triggerConfig : {}), 'triggerConfig');
        const newEvent = type === 'EVENT' ? (config as { eventName: string }).eventName : null;
        // `triggerEvent` keeps the last event name even while the trigger is MANUAL, so a detour
        // through MANUAL cannot rename the event either.
        if (wf.triggerEvent !== null && newEvent !== null && newEvent !== wf.triggerEvent) {
          const [any] = await tx.select({ id: executions.id }).from(executions).where(eq(executions.workflowId, wf.id)).limit(1);
          if (any) throw conflict('the trigger event name cannot change once the workflow has executions; duplicate the workflow instead', 'TRIGGER_EVENT_IMMUTABLE');
        }
        // Restating the current trigger (a client saving the whole form) is no edit.
        if (type !== wf.triggerType || !isDeepStrictEqual(config, wf.triggerConfig)) {
          await assertUnlocked(tx, wf);
          trigger = { triggerType: type, triggerConfig: config, triggerEvent: newEvent ?? wf.triggerEvent };
        }
      }
      const [updated] = await tx
        .update(workflows)
        .set({
          ...(body.name !== undefined ? { name: body.name } : {}),
          ...(body.description !== undefined ? { description: body.description } : {}),
          ...(enabled !== undefined ? { enabled } : {}),
          // Also when disabling: workflows enabled before this column existed become PAUSED, not DRAFT.
          ...(enabled === true || wf.enabled ? { everEnabled: true } : {}),
          ...(body.archived !== undefined ? { archived: body.archived } : {}),
          ...(body.allowReentry !== undefined ? { allowReentry: body.allowReentry } : {}),
          ...(trigger ?? {}),
          ...(trigger ? { version: sql`${workflows.version} + 1` } : {}),
          updatedAt: sql`now()`,
        })
        .where(eq(workflows.id, wf.id))
        .returning();
      return workflowOut(updated!);
    });
    res.json(out);
  });

  router.delete('/workflows/:id', async (req, res) => {
    const project = projectOf(req);
    const id = pathId(req.params.id, 'workflow');
    await db.transaction(async (tx) => {
      const wf = await lockWorkflow(tx, project.id, id);
      const active = await activeExecutions(tx, wf.id);
      if (active > 0) {
        throw conflict(`workflow has ${active} active execution(s); cancel them first (POST /workflows/${wf.id}/executions/cancel-all)`, 'CONFLICT', { activeExecutions: active });
      }
      await tx.delete(workflows).where(eq(workflows.id, wf.id));
    });
    res.status(204).end();
  });

  router.post('/workflows/:id/duplicate', async (req, res) => {
    const project = projectOf(req);
    const id = pathId(req.params.id, 'workflow');
    const out = await db.transaction(async (tx) => {
      const wf = await lockWorkflow(tx, project.id, id);
      const [copy] = await tx
        .insert(workflows)
        .values({
          projectId: project.id,
          name: `${wf.name} (copy)`,
          description: wf.description,
          triggerType: wf.triggerType,
          triggerConfig: wf.triggerConfig,
          triggerEvent: wf.triggerEvent,
          allowReentry: wf.allowReentry,
          enabled: false,
        })
        .returning();
      const stepRows = await tx.select().from(steps).where(eq(steps.workflowId, wf.id)).orderBy(asc(steps.createdAt), asc(steps.id));
      const ids = new Map<string, string>();
      for (const s of stepRows) {
        const [n] = await tx
          .insert(steps)
          // clock_timestamp(): the copy's steps keep the original's order.
          .values({ workflowId: copy!.id, key: s.key, type: s.type, name: s.name, config: s.config, position: s.position, createdAt: sql`clock_timestamp()` })
          .returning({ id: steps.id });
        ids.set(s.id, n!.id);
      }
      const transitionRows = await tx.select().from(transitions).where(eq(transitions.workflowId, wf.id)).orderBy(asc(transitions.createdAt), asc(transitions.id));
      if (transitionRows.length) {
        await tx.insert(transitions).values(
          transitionRows.map((t) => ({ workflowId: copy!.id, fromStepId: ids.get(t.fromStepId)!, toStepId: ids.get(t.toStepId)!, branch: t.branch })),
        );
      }
      return workflowWithGraph(tx, copy!.id);
    });
    res.status(201).json(out);
  });

  return router;
}
