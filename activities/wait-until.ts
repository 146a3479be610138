/** WAIT_UNTIL: the instant the step waits for, computed once from workflow time and kept in its history. */
import { ApplicationFailure } from '@temporalio/activity';
import type { JsonObject, StepActivityBase } from '../core/execution';
import type { WaitUntilConfig } from '../core/step-configs';
import { contactZone, movedDate, nextTimeOfDay } from '../core/wait-until';
import { projectTimezone } from '../db/settings';
import type { ActivityDeps } from './deps';
import { buildVariables } from '../core/render';
import { openStep } from './step';

export interface PlanWaitRequest extends StepActivityBase {
  config: WaitUntilConfig;
  context: JsonObject;
  /** Workflow time when the step started (ms): the target is strictly after it. */
  now: number;
}

/** The planned wait: `until` (ISO) in `zone`; or nothing to plan because the execution is no longer active. */
export type PlanWaitResult = { done: true; until: string; zone: string } | { done: false; reason: 'inactive' };

export function waitUntilActivities({ database, renderer }: ActivityDeps) {
  return {
    async planWaitUntil(req: PlanWaitRequest): Promise<PlanWaitResult> {
      return database.db.transaction(async (tx): Promise<PlanWaitResult> => {
        const owner = await openStep(tx, req, { contact: 'read' });
        if (!owner.open) return { done: false, reason: 'inactive' };
        const contact = owner.contact!;
        const { config } = req;
        const projectZone = await projectTimezone(tx, owner.projectId);
        const zone = config.timezone === undefined || config.timezone === 'contact' ? contactZone(contact.data, projectZone) : config.timezone;
        if (config.date === undefined) {
          return { done: true, until: nextTimeOfDay(req.now, config.time!, zone, config.days).toUTC().toISO()!, zone };
        }
        const [value] = (await renderer.values(buildVariables({ contact, context: req.context }), [config.date])).lines;
        const moment = movedDate(value ?? '', zone, config.offset, config.time);
        if (!moment) {
          const path = config.date.replace(/^\s*\{\{\s*|\s*\}\}\s*$/g, '');
          throw ApplicationFailure.nonRetryable(`${path} is not a date${value ? ` ("${value.slice(0, 100)}")` : ' (empty)'}`, 'InvalidDate');
        }
        return { done: true, until: moment.toUTC().toISO()!, zone };
      });
    },
  };
}
