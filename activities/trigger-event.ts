/**
 * TRIGGER_EVENT: one transaction records the rendered event one level deeper than the execution
 * (SPEC §14.2) — its enrolments and deliveries queued with it — and completes the step, so a retry
 * answers the first attempt's output instead of recording the event twice.
 */
import type { JsonObject, StepActivityBase, StepActivityResult } from '../core/execution';
import { lockContact } from '../db/contacts';
import { recordEvent } from '../db/events';
import type { ActivityDeps } from './deps';
import { buildVariables } from './render';
import { closeStep, openStep } from './step';

export interface TriggerEventRequest extends StepActivityBase {
  eventName: string;
  data?: JsonObject;
  context: JsonObject;
}

export function triggerEventActivities({ database, renderer, onCommandsQueued }: ActivityDeps) {
  return {
    async triggerEvent(req: TriggerEventRequest): Promise<StepActivityResult> {
      let queued = false;
      const result = await database.db.transaction(async (tx): Promise<StepActivityResult> => {
        const owner = await openStep(tx, req, { recordRunning: false });
        if (!owner.open) return owner.result;
        // The contact's row lock orders this event's enrolments with the contact's other ones.
        const contact = await lockContact(tx, owner.projectId, owner.contactId);
        if (!contact) return { done: false, reason: 'inactive' };
        const vars = buildVariables({ contact, context: req.context });
        const data = req.data === undefined ? {} : ((await renderer.values(vars, [], req.data)).json as JsonObject);
        const recorded = await recordEvent(tx, { projectId: owner.projectId, contactId: owner.contactId, name: req.eventName, data, depth: owner.depth + 1 });
        queued = true;
        const output = {
          eventId: recorded.event.id,
          enrolled: recorded.enrolled.length,
          ...(recorded.skippedEnrolments ? { skippedEnrolments: recorded.skippedEnrolments } : {}),
        };
        await closeStep(tx, req, output);
        return { done: true, output };
      });
      if (queued) onCommandsQueued();
      return result;
    },
  };
}
