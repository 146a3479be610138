/** UPDATE_CONTACT: one transaction — check, merge rendered data, flip `subscribed`, change tags, record the step. */
import { ApplicationFailure } from '@temporalio/activity';
import type { JsonObject, StepActivityBase, StepActivityResult } from '../core/execution';
import { TooManyTags } from '../core/tags';
import { updateContactRow } from '../db/contacts';
import type { ActivityDeps } from './deps';
import { runContactStep } from './step';

export interface UpdateContactRequest extends StepActivityBase {
  data?: JsonObject;
  subscribed?: boolean;
  addTags?: string[];
  removeTags?: string[];
  context: JsonObject;
}

export function updateContactActivities(deps: ActivityDeps) {
  return {
    updateContact(req: UpdateContactRequest): Promise<StepActivityResult> {
      return runContactStep(deps, req, async ({ tx, owner, contact, renderJson }) => {
        const data = req.data === undefined ? undefined : await renderJson(req.data);
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
        const output = { data: data ?? null, subscribed: updated.subscribed, ...(req.addTags || req.removeTags ? { tags: updated.tags } : {}) };
        return { output };
      });
    },
  };
}
