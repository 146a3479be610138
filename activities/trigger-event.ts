/**
 * TRIGGER_EVENT: one transaction records the rendered event one level deeper than the execution
 * (SPEC §14.2) — its enrolments and deliveries queued with it — and completes the step, so a retry
 * answers the first attempt's output instead of recording the event twice.
 */
import type { JsonObject, StepActivityBase, StepActivityResult } from '../core/execution';
import { recordEvent } from '../db/events';
import type { ActivityDeps } from './deps';
import { runContactStep } from './step';

export interface TriggerEventRequest extends StepActivityBase {
  eventName: string;
  data?: JsonObject;
  context: JsonObject;
}

export function triggerEventActivities(deps: ActivityDeps) {
  return {
    triggerEvent(req: TriggerEventRequest): Promise<StepActivityResult> {
      return runContactStep(deps, req, async ({ tx, owner, renderJson }) => {
        const data = req.data === undefined ? {} : await renderJson(req.data);
        const recorded = await recordEvent(tx, { projectId: owner.projectId, contactId: owner.contactId, name: req.eventName, data, depth: owner.depth + 1 });
        const output = {
          eventId: recorded.event.id,
          enrolled: recorded.enrolled.length,
          ...(recorded.skippedEnrolments ? { skippedEnrolments: recorded.skippedEnrolments } : {}),
        };
        return { output };
      });
    },
  };
}
