/** /workflows (SPEC §5.3): definitions, triggers, duplicate and delete. */
import { isDeepStrictEqual } from 'node:util';
import { Router } from 'express';
import { and, asc, desc, eq, ilike, sql } from 'drizzle-orm';
import { z } from 'zod';
import { scheduleConfigSchema } from '../../core/schedule';
import type { Tx } from '../../db/client';
import { segmentExists } from '../../db/enrolments';
import { steps, transitions, workflows, executions } from '../../db/schema';
import { projectOf } from '../auth';
import type { ApiDeps } from '../deps';
import { listPage } from '../paging';
import { badRequest, conflict, notFound } from '../errors';
import { activeExecutions, assertUnlocked, lockWorkflow } from '../locking';
import { scheduleView } from '../schedule-view';
import { stepOut, transitionOut, workflowOut } from '../serialize';
import { pagination, parse, pathId } from '../validate';
import { likePattern } from './contacts';

const eventName = z.string().trim().min(1).max(200);
const createWorkflow = z.strictObject({
  name: z.string().trim().min(1).max(200),
  eventName,
  description: z.string().max(2000).nullable().optional(),
  allowReentry: z.boolean().optional(),
});
const TRIGGER_TYPES = ['EVENT', 'MANUAL', 'SCHEDULE'] as const;
const patchWorkflow = z.strictObject({
  name: z.string().trim().min(1).max(200).optional(),
  description: z.string().max(2000).nullable().optional(),
  enabled: z.boolean().optional(),
  allowReentry: z.boolean().optional(),
  triggerType: z.enum(TRIGGER_TYPES).optional(),
  triggerConfig: z.record(z.string(), z.unknown()).optional(),
});
const triggerConfigs = {
  EVENT: z.strictObject({ eventName }),
  MANUAL: z.strictObject({}),
  SCHEDULE: scheduleConfigSchema,
} as const;
const listQuery = z.object({
  search: z.string().optional(),
  enabled: z.enum(['true', 'false']).optional(),
  ...pagination,
});

/** The workflow with its graph, as GET /workflows/:id shows it. */
export async function workflowWithGraph(tx: Tx, id: string) {
  const [wf] = await tx.select().from(workflows).where(eq(workflows.id, id));
  if (!wf) throw notFound('workflow');
  const stepRows = await tx.select().from(steps).where(eq(steps.workflowId, id)).orderBy(asc(steps.createdAt), asc(steps.id));
  const transitionRows = await tx.select().from(transitions).where(eq(transitions.workflowId, id)).orderBy(asc(transitions.createdAt), asc(transitions.id));
  return { ...workflowOut(wf), steps: stepRows.map(stepOut), transitions: transitionRows.map(transitionOut) };
}

export function workflowRoutes({ database, schedules }: ApiDeps): Router {
  const router = Router();
  const { db } = database;

  /** After a commit: the workflow's Temporal Schedule follows; a failure heals at the next reconcile. */
  async function syncSchedule(workflowId: string): Promise<void> {
    await schedules.sync(workflowId).catch((err) => console.warn(`schedule of workflow ${workflowId}: ${(err as Error).message}`));
  }

  router.post('/workflows', async (req, res) => {
    const project = projectOf(req);
    const body = parse(createWorkflow, req.body);
    const out = await db.transaction(async (tx) => {
      const [wf] = await tx
        .insert(workflows)
        .values({
          projectId: project.id,
          name: body.name,
          description: body.description ?? null,
          triggerType: 'EVENT',
          triggerConfig: { eventName: body.eventName },
          triggerEvent: body.eventName,
          allowReentry: body.allowReentry ?? false,
        })
        .returning();
      await tx.insert(steps).values({ workflowId: wf!.id, type: 'TRIGGER', name: 'Trigger', config: {} });
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
    );
    res.json(await listPage(db, workflows, where, [desc(workflows.createdAt), desc(workflows.id)], q, workflowOut));
  });

  router.get('/workflows/:id', async (req, res) => {
    const project = projectOf(req);
    const id = pathId(req.params.id, 'workflow');
    const [wf] = await db.select({ id: workflows.id }).from(workflows).where(and(eq(workflows.id, id), eq(workflows.projectId, project.id)));
    if (!wf) throw notFound('workflow');
    const out = await workflowWithGraph(db, id);
    res.json(out.triggerType === 'SCHEDULE' ? { ...out, schedule: await scheduleView(db, out) } : out);
  });

  router.patch('/workflows/:id', async (req, res) => {
    const project = projectOf(req);
    const id = pathId(req.params.id, 'workflow');
    const body = parse(patchWorkflow, req.body);
    const out = await db.transaction(async (tx) => {
      const wf = await lockWorkflow(tx, project.id, id);
      const structural = body.triggerType !== undefined || body.triggerConfig !== undefined;
      let trigger: { triggerType: string; triggerConfig: Record<string, unknown>; triggerEvent: string | null } | undefined;
      if (structural) {
        const type = body.triggerType ?? wf.triggerType;
        const schema = triggerConfigs[type as keyof typeof triggerConfigs];
        const config = parse(schema, body.triggerConfig ?? (type === wf.triggerType ? wf.triggerConfig : {}), 'triggerConfig');
        const segmentId = type === 'SCHEDULE' ? (config as { segmentId?: string }).segmentId : undefined;
        if (segmentId !== undefined && !(await segmentExists(tx, project.id, segmentId))) {
          throw badRequest(`segment ${segmentId} not found in this project`, [{ path: 'triggerConfig.segmentId', message: 'no such segment in this project' }]);
        }
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
          ...(body.enabled !== undefined ? { enabled: body.enabled } : {}),
          ...(body.allowReentry !== undefined ? { allowReentry: body.allowReentry } : {}),
          ...(trigger ?? {}),
          ...(trigger ? { version: sql`${workflows.version} + 1` } : {}),
          updatedAt: sql`now()`,
        })
        .where(eq(workflows.id, wf.id))
        .returning();
      return { before: wf, after: updated! };
    });
    if (out.before.triggerType === 'SCHEDULE' || out.after.triggerType === 'SCHEDULE') await syncSchedule(id);
    res.json(workflowOut(out.after));
  });

  router.delete('/workflows/:id', async (req, res) => {
    const project = projectOf(req);
    const id = pathId(req.params.id, 'workflow');
    const deleted = await db.transaction(async (tx) => {
      const wf = await lockWorkflow(tx, project.id, id);
      const active = await activeExecutions(tx, wf.id);
      if (active > 0) {
        throw conflict(`workflow has ${active} active execution(s); cancel them first (POST /workflows/${wf.id}/executions/cancel-all)`, 'CONFLICT', { activeExecutions: active });
      }
      await tx.delete(workflows).where(eq(workflows.id, wf.id));
      return wf;
    });
    if (deleted.triggerType === 'SCHEDULE') await syncSchedule(id);
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
          .values({ workflowId: copy!.id, type: s.type, name: s.name, config: s.config, position: s.position, createdAt: sql`clock_timestamp()` })
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
