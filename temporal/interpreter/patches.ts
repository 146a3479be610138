/**
 * The interpreter's patches (`patched(id)`): each marks a change of the commands a run issues, so runs
 * that started before it replay the old way (temporal/README.md, "Changing the interpreter"). Once no
 * run from before a patch is left, its id moves to `deprecatePatch` and the old branch goes.
 */

/** CONDITION evaluates its filter in the activity that loads the contact (its outcome is in history). */
export const CONDITION_OUTCOME_RECORDED = 'condition-outcome-recorded';

/** SEND_EMAIL and WEBHOOK heartbeat and are cancelled with WAIT_CANCELLATION_COMPLETED (a cancel reaches the call). */
export const CANCEL_REACHES_CALLS = 'cancel-reaches-calls';

/** WAIT_FOR_EVENT asks Postgres for events since the step began (startWait) and judges signals by record time. */
export const WAIT_SINCE_START = 'wait-since-start';

/** Postgres steps run as local activities (START_WORKFLOW excepted): no activity task, no workflow task of their own. */
export const POSTGRES_STEPS_LOCAL = 'postgres-steps-local';

/**
 * A run that finds its execution inactive asks Postgres why: COMPLETED means an earlier attempt of
 * its own workflow task finished it (that task failed after its local activities committed), and
 * the run completes; FAILED (the same, or a command the outbox gave up on), and it fails with the
 * execution's error.
 */
export const COMPLETED_BY_EARLIER_ATTEMPT = 'completed-by-earlier-attempt';

/**
 * Every patch above in one: a run that started on the code of 2026-12-04 asked only this one and took each patch
 * of EVERY_PATCH_TO_2026_12_HOLDS as applied. Each patch a run applies records a marker and upserts
 * Temporal's `TemporalChangeVersion` search attribute (a visibility write on the server), so a run
 * paid for up to five; runs that began before ask each patch where they always did. The patches
 * since are bundled anew (PATCH_BUNDLES).
 */
export const EVERY_PATCH_TO_2026_12 = 'every-patch-to-2026-12';

/** The patches EVERY_PATCH_TO_2026_12 stands for. */
export const EVERY_PATCH_TO_2026_12_HOLDS: readonly string[] = [
  CONDITION_OUTCOME_RECORDED,
  CANCEL_REACHES_CALLS,
  WAIT_SINCE_START,
  POSTGRES_STEPS_LOCAL,
  COMPLETED_BY_EARLIER_ATTEMPT,
];

/**
 * SEND_EMAIL's first attempt is a local activity, run inside the workflow task that reaches the step
 * (a run of TRIGGER → UPDATE_CONTACT → SEND_EMAIL is then one workflow task); a failure a retry could
 * mend hands the send to an activity task with the full retry policy.
 */
export const SEND_EMAIL_FIRST_LOCAL = 'send-email-first-local';

/** Every patch above in one, as EVERY_PATCH_TO_2026_12 was: the one runs that started on the code of 2026-12-05 asked. */
export const EVERY_PATCH_TO_2026_12_05 = 'every-patch-to-2026-12-05';

/** The patches EVERY_PATCH_TO_2026_12_05 stands for. */
export const EVERY_PATCH_TO_2026_12_05_HOLDS: readonly string[] = [...EVERY_PATCH_TO_2026_12_HOLDS, SEND_EMAIL_FIRST_LOCAL];

/**
 * WEBHOOK's first attempt is a local activity, as SEND_EMAIL's: a run that resumes from a wait and
 * calls a webhook does so in the workflow task the signal began. A failure a retry could mend hands
 * the call to an activity task after the policy's first backoff (still 5 attempts in all).
 */
export const WEBHOOK_FIRST_LOCAL = 'webhook-first-local';

/** Every patch above in one: the bundle runs that started on the code of 2026-12-05 (evening) asked. */
export const EVERY_PATCH_TO_2026_12_05B = 'every-patch-to-2026-12-05b';

/** The patches EVERY_PATCH_TO_2026_12_05B stands for. */
export const EVERY_PATCH_TO_2026_12_05B_HOLDS: readonly string[] = [...EVERY_PATCH_TO_2026_12_05_HOLDS, WEBHOOK_FIRST_LOCAL];

/**
 * A run whose input says enrolment opened its first WAIT_FOR_EVENT (`openedWait`) begins in it,
 * without the wait's local activity. A run that such an input reached on a worker of the code before
 * (during a rolling deploy) opened the wait itself, and replays so.
 */
export const OPENED_WAIT = 'opened-wait';

/** Every patch above in one: the bundle a run that starts on this code asks. */
export const EVERY_PATCH_TO_2026_12_06 = 'every-patch-to-2026-12-06';

/** The patches EVERY_PATCH_TO_2026_12_06 stands for. */
export const EVERY_PATCH_TO_2026_12_06_HOLDS: readonly string[] = [...EVERY_PATCH_TO_2026_12_05B_HOLDS, OPENED_WAIT];

/**
 * The bundles, newest first. A run asks them in turn, first thing, and applies what the first one it
 * started with holds: a new run asks (and records) only the newest; a run that began with an older
 * one finds no marker of the newer ones in its history and goes on to its own.
 */
export const PATCH_BUNDLES: readonly { id: string; holds: readonly string[] }[] = [
  { id: EVERY_PATCH_TO_2026_12_06, holds: EVERY_PATCH_TO_2026_12_06_HOLDS },
  { id: EVERY_PATCH_TO_2026_12_05B, holds: EVERY_PATCH_TO_2026_12_05B_HOLDS },
  { id: EVERY_PATCH_TO_2026_12_05, holds: EVERY_PATCH_TO_2026_12_05_HOLDS },
  { id: EVERY_PATCH_TO_2026_12, holds: EVERY_PATCH_TO_2026_12_HOLDS },
];
