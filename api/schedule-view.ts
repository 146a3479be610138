/** The `schedule` part of GET /workflows/:id for a SCHEDULE workflow: from the cron and Postgres, never Temporal. */
import { nextRuns, scheduleConfigOf } from '../core/schedule';
import type { Tx } from '../db/client';
import { lastTick } from '../db/enrolments';

/** The next three fire times (none while disabled) and the last tick's enrolment. */
export async function scheduleView(tx: Tx, wf: { id: string; enabled: boolean; triggerConfig: unknown }) {
  const tick = await lastTick(tx, wf.id);
  return {
    nextRuns: wf.enabled ? nextRuns(scheduleConfigOf(wf.triggerConfig), 3).map((d) => d.toISOString()) : [],
    lastTick: tick
      ? { enrolmentId: tick.id, scheduledAt: tick.scheduledAt!.toISOString(), enrolled: tick.enrolled, skipped: tick.skipped, status: tick.status }
      : null,
  };
}
