/** Quiet hours (SPEC §14.4): whether a marketing send must wait, read live from the project's settings. */
import { eq } from 'drizzle-orm';
import type { QuietHold } from '../core/execution';
import { contactZone, quietPeriodEnd } from '../core/wait-until';
import type { Tx } from '../db/client';
import { executions, projectSettings, workflows } from '../db/schema';
import type { QuietHoursSetting } from '../db/settings';

/**
 * The hold for a send at workflow time `now` to a contact with `data`: set while the project's quiet
 * hours are on in the period's zone (the contact's by default) and the execution's workflow does not
 * ignore them; undefined when the send may go.
 */
export async function quietHold(tx: Tx, executionId: string, data: Record<string, unknown>, now: number): Promise<QuietHold | undefined> {
  const [row] = await tx
    .select({ timezone: projectSettings.timezone, quietHours: projectSettings.quietHours, ignore: workflows.ignoreQuietHours })
    .from(executions)
    .innerJoin(workflows, eq(workflows.id, executions.workflowId))
    .innerJoin(projectSettings, eq(projectSettings.projectId, executions.projectId))
    .where(eq(executions.id, executionId));
  const quiet = row?.quietHours as QuietHoursSetting | null | undefined;
  if (!row || !quiet || row.ignore) return undefined;
  const zone = quiet.timezone === 'contact' ? contactZone(data, row.timezone) : quiet.timezone;
  const end = quietPeriodEnd(now, quiet, zone);
  return end && { done: false, reason: 'quiet', until: end.toUTC().toISO()!, zone };
}
