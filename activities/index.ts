/** Every activity of the interpreter, built over their dependencies (`createActivities(deps)`). */
import { bookkeepingActivities } from './bookkeeping';
import { conditionActivities } from './condition';
import { withAttemptClock } from './attempt';
import { withHeartbeats } from './cancellation';
import type { ActivityDeps } from './deps';
import { enrolmentActivities } from './enrolment';
import { withClassifiedFailures } from './failures';
import { purgeActivities } from './purges';
import { segmentActivities } from './segments';
import { sendEmailActivities } from './send-email';
import { sendSmsActivities } from './send-sms';
import { startWorkflowActivities } from './start-workflow';
import { triggerEventActivities } from './trigger-event';
import { updateContactActivities } from './update-contact';
import { waitUntilActivities } from './wait-until';
import { webhookActivities } from './webhook';

export type { ActivityDeps } from './deps';

/** Builds the activity functions the worker registers. */
export function createActivities(deps: ActivityDeps) {
  return withAttemptClock(
    withClassifiedFailures({
      ...bookkeepingActivities(deps),
      ...conditionActivities(deps),
      ...updateContactActivities(deps),
      // The calls to the outside world: they heartbeat, so that a cancel reaches them in flight.
      ...withHeartbeats({ ...sendEmailActivities(deps), ...sendSmsActivities(deps), ...webhookActivities(deps) }, deps.stopping),
      ...segmentActivities(deps),
      ...triggerEventActivities(deps),
      ...startWorkflowActivities(deps),
      ...enrolmentActivities(deps),
      ...waitUntilActivities(deps),
      ...purgeActivities(deps),
    }),
  );
}

export type Activities = ReturnType<typeof createActivities>;
