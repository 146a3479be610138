/** Every activity of the interpreter, built over their dependencies (`createActivities(deps)`). */
import { bookkeepingActivities } from './bookkeeping';
import type { ActivityDeps } from './deps';
import { enrolmentActivities } from './enrolment';
import { sendEmailActivities } from './send-email';
import { updateContactActivities } from './update-contact';
import { webhookActivities } from './webhook';

export type { ActivityDeps } from './deps';

/** Builds the activity functions the worker registers. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...bookkeepingActivities(deps),
    ...updateContactActivities(deps),
    ...sendEmailActivities(deps),
    ...webhookActivities(deps),
    ...enrolmentActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
