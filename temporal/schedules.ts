/**
 * Keeps one Temporal Schedule per SCHEDULE workflow in step with Postgres, which is the truth:
 * `sync(workflowId)` reads the workflow's row and creates, updates, pauses or deletes its schedule
 * to match. It runs after the commit of every change, and `reconcile()` runs it for every workflow at
 * start and periodically, so a restart or a Temporal outage during a change heals.
 */
import {
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  type Client,
  type ScheduleDescription,
  type ScheduleOptionsStartWorkflowAction,
  type ScheduleUpdateOptions,
} from '@temporalio/client';
import { TypedSearchAttributes } from '@temporalio/common';
import { and, asc, eq, gt, sql } from 'drizzle-orm';
import {
  ENROLMENT_WORKFLOW_TYPE,
  enrolmentTaskQueue,
  SCHEDULE_ID_PREFIX,
  scheduleIdOf,
  tickWorkflowIdPrefix,
  type AudienceEnrolmentInput,
} from '../core/enrolment';
import { DEFAULT_TIMEZONE, scheduleConfigOf } from '../core/schedule';
import type { Database } from '../db/client';
import { workflows } from '../db/schema';
import type { Logger } from '../telemetry/logger';
import { projectIdKey, workflowIdKey } from './search-attributes';

/** One reconcile pass at a time across all processes (an arbitrary constant). */
const RECONCILE_LOCK = 7_311_520_413;
const CALL_DEADLINE_MS = 5000;
const CATCHUP_WINDOW = '10 minutes';
const PAGE = 200;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface Schedules {
  /** Makes the workflow's schedule match its row; throws when Temporal is unreachable. */
  sync(workflowId: string): Promise<void>;
  /** Syncs every SCHEDULE workflow and deletes schedules whose workflow no longer has one. */
  reconcile(): Promise<void>;
  /** Stops the periodic reconcile and waits for a pass in flight. */
  stop(): Promise<void>;
}

type WorkflowRow = typeof workflows.$inferSelect;

/** Starts the schedule keeper; `enabled: false` (a server without schedules) makes every call a no-op. */
export function startSchedules(deps: {
  database: Database;
  client: Client;
  taskQueue: string;
  enabled: boolean;
  intervalMs?: number;
  logger: Logger;
}): Schedules {
  const { database, client, taskQueue } = deps;

  const bounded = <T>(call: () => Promise<T>): Promise<T> => client.connection.withDeadline(Date.now() + CALL_DEADLINE_MS, call);

  /** What the schedule of `wf` should be; the action's memo fingerprints it for comparison. */
  function desired(wf: WorkflowRow): ScheduleUpdateOptions<ScheduleOptionsStartWorkflowAction<never>> {
    const config = scheduleConfigOf(wf.triggerConfig);
    const timezone = config.timezone ?? DEFAULT_TIMEZONE;
    const input: AudienceEnrolmentInput = { tickOf: wf.id };
    const attributes = new TypedSearchAttributes([
      { key: workflowIdKey, value: wf.id },
      { key: projectIdKey, value: wf.projectId },
    ]);
    return {
      spec: { cronExpressions: [config.cron], timezone },
      action: {
        type: 'startWorkflow',
        workflowType: ENROLMENT_WORKFLOW_TYPE,
        workflowId: tickWorkflowIdPrefix(wf.id),
        taskQueue: enrolmentTaskQueue(taskQueue),
        args: [input] as never,
        memo: { workflowName: wf.name, trellisSchedule: fingerprint(wf) },
        typedSearchAttributes: attributes,
      },
      // A tick still enrolling when the next comes skips it; ticks missed in a Temporal outage are
      // made up only within CATCHUP_WINDOW, so a long outage does not fire a backlog of sends.
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: CATCHUP_WINDOW },
      state: { paused: !wf.enabled, note: wf.enabled ? 'enabled in Trellis' : 'workflow disabled in Trellis' },
    };
  }

  function fingerprint(wf: WorkflowRow): string {
    const c = scheduleConfigOf(wf.triggerConfig);
    return JSON.stringify([c.cron, c.timezone ?? DEFAULT_TIMEZONE, c.segmentId ?? null, enrolmentTaskQueue(taskQueue), wf.name, CATCHUP_WINDOW]);
  }

  function matches(current: ScheduleDescription, wf: WorkflowRow): boolean {
    return current.action.memo?.trellisSchedule === fingerprint(wf) && current.state.paused === !wf.enabled;
  }

  async function describe(scheduleId: string): Promise<ScheduleDescription | undefined> {
    try {
      return await bounded(() => client.schedule.getHandle(scheduleId).describe());
    } catch (err) {
      if (err instanceof ScheduleNotFoundError) return undefined;
      throw err;
    }
  }

  async function remove(scheduleId: string): Promise<void> {
    try {
      await bounded(() => client.schedule.getHandle(scheduleId).delete());
    } catch (err) {
      if (!(err instanceof ScheduleNotFoundError)) throw err;
    }
  }

  /** Brings Temporal in line with `wf` (undefined: the workflow is gone). */
  async function apply(workflowId: string, wf: WorkflowRow | undefined): Promise<void> {
    const scheduleId = scheduleIdOf(workflowId);
    let current = await describe(scheduleId);
    if (wf?.triggerType !== 'SCHEDULE') {
      if (current) await remove(scheduleId);
      return;
    }
    const want = desired(wf);
    if (!current) {
      // Created when the workflow is first enabled with this trigger; a disabled one needs none.
      if (!wf.enabled) return;
      try {
        await bounded(() =>
          client.schedule.create({
            scheduleId,
            ...want,
            typedSearchAttributes: want.action.typedSearchAttributes,
            memo: { workflowName: wf.name },
          }),
        );
        return;
      } catch (err) {
        if (!(err instanceof ScheduleAlreadyRunning)) throw err;
        current = await describe(scheduleId);
        if (!current) throw err;
      }
    }
    if (matches(current, wf)) return;
    await bounded(() => client.schedule.getHandle(scheduleId).update(() => want));
  }

  async function sync(workflowId: string): Promise<void> {
    if (!deps.enabled) return;
    // Serialized per workflow across processes, each reading the latest committed row under the
    // lock: the last sync to run applies the latest state, whatever order the changes' syncs start in.
    await database.db.transaction(async (tx) => {
      await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`trellis-schedule:${workflowId}`}, 0))`);
      const [wf] = await tx.select().from(workflows).where(eq(workflows.id, workflowId));
      await apply(workflowId, wf);
    });
  }

  let inFlight: Promise<void> | undefined;
  function reconcile(): Promise<void> {
    if (!deps.enabled) return Promise.resolve();
    inFlight ??= pass().finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  }

  async function pass(): Promise<void> {
    await database.db.transaction(async (tx) => {
      const [{ locked }] = (await tx.execute(sql`select pg_try_advisory_xact_lock(${RECONCILE_LOCK}) as locked`)).rows as [{ locked: boolean }];
      if (!locked) return;
      for (let after = ''; ; ) {
        const page = await database.db
          .select({ id: workflows.id })
          .from(workflows)
          .where(and(eq(workflows.triggerType, 'SCHEDULE'), after ? gt(workflows.id, after) : undefined))
          .orderBy(asc(workflows.id))
          .limit(PAGE);
        for (const { id } of page) await sync(id);
        if (page.length < PAGE) break;
        after = page[page.length - 1]!.id;
      }
      // Schedules whose workflow was deleted, or left SCHEDULE, while the change's own sync failed.
      for await (const summary of client.schedule.list()) {
        if (!summary.scheduleId.startsWith(SCHEDULE_ID_PREFIX)) continue;
        const workflowId = summary.scheduleId.slice(SCHEDULE_ID_PREFIX.length);
        if (!UUID.test(workflowId)) continue;
        const [wf] = await database.db.select({ triggerType: workflows.triggerType }).from(workflows).where(eq(workflows.id, workflowId));
        if (wf?.triggerType === 'SCHEDULE') continue;
        // Another installation may share the namespace: only this task queue's schedules are ours.
        const current = await describe(summary.scheduleId);
        if (current?.action.taskQueue === taskQueue) await sync(workflowId);
      }
    });
  }

  const timer = deps.enabled
    ? setInterval(() => {
        reconcile().catch((err) => deps.logger.warn({ err }, 'schedule reconcile failed'));
      }, deps.intervalMs ?? 20_000)
    : undefined;
  timer?.unref();
  return {
    sync,
    reconcile,
    async stop() {
      clearInterval(timer);
      await inFlight?.catch(() => undefined);
    },
  };
}
