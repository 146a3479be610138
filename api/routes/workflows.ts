/** /workflows (SPEC §5.3): definitions, triggers, duplicate and delete. */
import { isDeepStrictEqual } from 'node:util';
import type { Tx } from '../../db/client';
import { deleteWorkflowRow, duplicateWorkflow, getProjectWorkflow, hasExecutions, insertWorkflow, updateWorkflowRow, workflowPage } from '../../db/workflows';
import * as api from '../contracts/workflows';
import type { ApiDeps } from '../deps';
import { badRequest, conflict, notFound } from '../errors';
import { activeExecutions, assertUnlocked, lockWorkflow } from '../locking';
import { pageOut } from '../paging';
import { route, type Route } from '../routing';
import { EventTriggerConfig, ManualTriggerConfig } from '../schemas/resources';
import { workflowOut } from '../serialize';
import { parse } from '../validate';
import { scheduleConfigSchema } from '../../core/schedule';
import { segmentExists } from '../../db/enrolments';
import { scheduleView } from '../schedule-view';
import type { z } from 'zod';
import { writeGraph } from '../../db/workflow-document';
import { resolveDocument } from '../workflow-document-input';
import { workflowWithGraph } from '../workflow-view';

const triggerConfigs = { EVENT: EventTriggerConfig, MANUAL: ManualTriggerConfig, SCHEDULE: scheduleConfigSchema } as const;

/** The trigger of a new workflow: `eventName` alone, or `triggerType` with its `triggerConfig`. */
function newTrigger(body: z.infer<typeof api.createWorkflow.body>) {
  const type = body.triggerType ?? 'EVENT';
  if (body.eventName !== undefined && (type !== 'EVENT' || body.triggerConfig !== undefined)) {
    throw badRequest('give eventName alone, or triggerType with triggerConfig', [
      { path: 'eventName', message: 'give eventName alone, or triggerType with triggerConfig' },
    ]);
  }
  if (type === 'EVENT' && body.eventName === undefined && body.triggerConfig === undefined) {
    throw badRequest('an EVENT workflow needs its eventName', [{ path: 'eventName', message: 'eventName is required' }]);
  }
  const config = parse(triggerConfigs[type], body.triggerConfig ?? (type === 'EVENT' ? { eventName: body.eventName } : {}), 'triggerConfig') as Record<
    string,
    unknown
  >;
  const event = type === 'EVENT' ? (config as { eventName: string }).eventName : null;
  return { triggerType: type, triggerConfig: config, triggerEvent: event };
}

/** A SCHEDULE trigger's `segmentId` must be a segment of the project (400 naming it). */
async function checkScheduleSegment(tx: Tx, projectId: string, type: string, config: Record<string, unknown>): Promise<void> {
  const segmentId = type === 'SCHEDULE' ? (config as { segmentId?: string }).segmentId : undefined;
  if (segmentId !== undefined && !(await segmentExists(tx, projectId, segmentId))) {
    throw badRequest(`segment ${segmentId} not found in this project`, [{ path: 'triggerConfig.segmentId', message: 'no such segment in this project' }]);
  }
}

export function workflowRoutes({ database, schedules, logger }: ApiDeps): Route[] {
  const { db } = database;

  /** After a commit: the workflow's Temporal Schedule follows; a failure heals at the next reconcile. */
  async function syncSchedule(workflowId: string): Promise<void> {
    await schedules.sync(workflowId).catch((err) => logger.warn({ err, workflowId }, 'schedule sync failed'));
  }

  return [
    route(api.createWorkflow, async ({ project, body }) => {
      const trigger = newTrigger(body);
      return db.transaction(async (tx) => {
        await checkScheduleSegment(tx, project.id, trigger.triggerType, trigger.triggerConfig);
        const graph = await resolveDocument(tx, project.id, { steps: body.steps ?? [], transitions: body.transitions ?? [], templates: body.templates });
        const wf = await insertWorkflow(tx, {
          projectId: project.id,
          name: body.name,
          description: body.description ?? null,
          ...trigger,
          allowReentry: body.allowReentry ?? false,
          exitOn: body.exitOn ?? null,
        });
        await writeGraph(tx, wf.id, graph);
        return workflowWithGraph(tx, wf.id);
      });
    }),

    route(api.listWorkflows, async ({ project, query: q }) => {
      return pageOut(await workflowPage(db, project.id, q), q, workflowOut);
    }),

    route(api.getWorkflow, async ({ project, params: { id } }) => {
      if (!(await getProjectWorkflow(db, project.id, id))) throw notFound('workflow');
      const out = await workflowWithGraph(db, id);
      return out.triggerType === 'SCHEDULE' ? { ...out, schedule: await scheduleView(db, out) } : out;
    }),

    route(api.updateWorkflow, async ({ project, params: { id }, body }) => {
      const out = await db.transaction(async (tx) => {
        const wf = await lockWorkflow(tx, project.id, id);
        const structural = body.triggerType !== undefined || body.triggerConfig !== undefined;
        let trigger: { triggerType: string; triggerConfig: Record<string, unknown>; triggerEvent: string | null } | undefined;
        if (structural) {
          const type = body.triggerType ?? wf.triggerType;
          const schema = triggerConfigs[type as keyof typeof triggerConfigs];
          const config = parse(schema, body.triggerConfig ?? (type === wf.triggerType ? wf.triggerConfig : {}), 'triggerConfig') as Record<string, unknown>;
          await checkScheduleSegment(tx, project.id, type, config);
          const newEvent = type === 'EVENT' ? (config as { eventName: string }).eventName : null;
          // `triggerEvent` keeps the last event name even while the trigger is MANUAL, so a detour
          // through MANUAL cannot rename the event either.
          if (wf.triggerEvent !== null && newEvent !== null && newEvent !== wf.triggerEvent) {
            if (await hasExecutions(tx, wf.id))
              throw conflict(
                'the trigger event name cannot change once the workflow has executions; duplicate the workflow instead',
                'TRIGGER_EVENT_IMMUTABLE',
              );
          }
          // Restating the current trigger (a client saving the whole form) is no edit.
          if (type !== wf.triggerType || !isDeepStrictEqual(config, wf.triggerConfig)) {
            await assertUnlocked(tx, wf);
            trigger = { triggerType: type, triggerConfig: config, triggerEvent: newEvent ?? wf.triggerEvent };
          }
        }
        // Exit conditions are pinned with the graph: a change is structural (locked, a new version).
        const exitOn = body.exitOn === undefined || isDeepStrictEqual(body.exitOn, wf.exitOn) ? undefined : { exitOn: body.exitOn };
        if (exitOn && !trigger) await assertUnlocked(tx, wf);
        const archived = body.archived ?? wf.archived;
        if (body.enabled === true && archived) {
          throw conflict('an archived workflow cannot be enabled; unarchive it first (PATCH {"archived": false})', 'CONFLICT', [
            { path: 'enabled', message: 'the workflow is archived' },
          ]);
        }
        // Archiving disables; unarchiving leaves the workflow disabled until it is enabled.
        const enabled = body.archived === true ? false : body.enabled;
        const updated = await updateWorkflowRow(
          tx,
          wf.id,
          {
            ...(body.name !== undefined ? { name: body.name } : {}),
            ...(body.description !== undefined ? { description: body.description } : {}),
            ...(enabled !== undefined ? { enabled } : {}),
            // Also when disabling: workflows enabled before this column existed become PAUSED, not DRAFT.
            ...(enabled === true || wf.enabled ? { everEnabled: true } : {}),
            ...(body.archived !== undefined ? { archived: body.archived } : {}),
            ...(body.allowReentry !== undefined ? { allowReentry: body.allowReentry } : {}),
            ...(body.ignoreQuietHours !== undefined ? { ignoreQuietHours: body.ignoreQuietHours } : {}),
            ...(trigger ?? {}),
            ...(exitOn ?? {}),
          },
          Boolean(trigger || exitOn),
        );
        return { before: wf, after: updated };
      });
      if (out.before.triggerType === 'SCHEDULE' || out.after.triggerType === 'SCHEDULE') await syncSchedule(id);
      return workflowOut(out.after);
    }),

    route(api.deleteWorkflow, async ({ project, params: { id } }) => {
      const deleted = await db.transaction(async (tx) => {
        const wf = await lockWorkflow(tx, project.id, id);
        const active = await activeExecutions(tx, wf.id);
        if (active > 0) {
          throw conflict(`workflow has ${active} active execution(s); cancel them first (POST /workflows/${wf.id}/executions/cancel-all)`, 'CONFLICT', {
            activeExecutions: active,
          });
        }
        await deleteWorkflowRow(tx, wf.id);
        return wf;
      });
      if (deleted.triggerType === 'SCHEDULE') await syncSchedule(id);
    }),

    route(api.duplicateWorkflow, async ({ project, params: { id } }) => {
      return await db.transaction(async (tx) => {
        const wf = await lockWorkflow(tx, project.id, id);
        const copyId = await duplicateWorkflow(tx, wf);
        return workflowWithGraph(tx, copyId);
      });
    }),
  ];
}
