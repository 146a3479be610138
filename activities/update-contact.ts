/** UPDATE_CONTACT: one transaction — check, merge rendered data, flip `subscribed`, change tags, record the step. */
import { ApplicationFailure } from '@temporalio/activity';
import type { JsonObject, StepActivityBase, StepActivityResult } from '../core/execution';
import { TooManyTags } from '../core/tags';
import { lockContact, updateContactRow } from '../db/contacts';
import type { ActivityDeps } from './deps';
import { buildVariables } from './render';
import { closeStep, openStep } from './step';

export interface UpdateContactRequest extends StepActivityBase {
  data?: JsonObject;
  subscribed?: boolean;
  addTags?: string[];
  removeTags?: string[];
  context: JsonObject;
}

export function updateContactActivities({ database, renderer, onCommandsQueued }: ActivityDeps) {
  return {
    async updateContact(req: UpdateContactRequest): Promise<StepActivityResult> {
      let queued = false;
      const result = await database.db.transaction(async (tx): Promise<StepActivityResult> => {
        // The step completes in this transaction: no RUNNING record first.
        const owner = await openStep(tx, req, { recordRunning: false });
        if (!owner.open) return owner.result;
        const contact = await lockContact(tx, owner.projectId, owner.contactId);
        if (!contact) return { done: false, reason: 'inactive' };
        const vars = buildVariables({ contact, context: req.context });
        const data = req.data === undefined ? undefined : ((await renderer.values(vars, [], req.data)).json as JsonObject);
        const updated = await updateContactRow(
          tx,
          contact,
          { data, subscribed: req.subscribed, addTags: req.addTags, removeTags: req.removeTags },
          { depth: owner.depth + 1 },
        ).catch((err: unknown) => {
          // No retry can make room for the tags: fail the step at once.
          if (err instanceof TooManyTags) throw ApplicationFailure.create({ message: err.message, type: 'TooManyTags', nonRetryable: true });
          throw err;
        });
        // Any change may have recorded events (subscription, tags, segment entry/exit) with commands to carry out.
        queued = true;
        const output = { data: data ?? null, subscribed: updated.subscribed, ...(req.addTags || req.removeTags ? { tags: updated.tags } : {}) };
        await closeStep(tx, req, output);
        return { done: true, output };
      });
      if (queued) onCommandsQueued();
      return result;
    },
  };
}
