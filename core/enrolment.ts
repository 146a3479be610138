/** Audience enrolment (SPEC §5.5, §7.2): what its Temporal workflow and activities exchange, and its ids. */

export const ENROLMENT_WORKFLOW_TYPE = 'audienceEnrolment';

/** Contacts enrolled per batch: one transaction, one activity. */
export const ENROLMENT_BATCH_SIZE = 500;

export const ENROLMENT_SOURCES = ['SCHEDULE', 'BULK'] as const;
export type EnrolmentSource = (typeof ENROLMENT_SOURCES)[number];

/** `RUNNING` until every batch is done (`COMPLETED`), or `STOPPED` when its workflow was disabled or its audience vanished. */
export const ENROLMENT_STATUSES = ['RUNNING', 'COMPLETED', 'STOPPED'] as const;
export type EnrolmentStatus = (typeof ENROLMENT_STATUSES)[number];

/** The workflow's input: an enrolment the API created, or a schedule tick of a workflow that opens its own. */
export type AudienceEnrolmentInput = { enrolmentId: string } | { tickOf: string };

/** What one batch did, and whether the enrolment has ended. */
export interface EnrolmentBatchResult {
  done: boolean;
  enrolled: number;
  skipped: number;
}

/** The Temporal Schedule of a SCHEDULE workflow: its id contains the workflow's id (SPEC §7.2). */
export function scheduleIdOf(workflowId: string): string {
  return `trellis-schedule-${workflowId}`;
}

export const SCHEDULE_ID_PREFIX = 'trellis-schedule-';

/** The Temporal workflow id of a bulk enrolment: deterministic, so starting it twice is harmless. */
export function enrolmentWorkflowId(enrolmentId: string): string {
  return `trellis-enrolment-${enrolmentId}`;
}

/** The prefix of a schedule's tick runs (Temporal appends the tick's time). */
export function tickWorkflowIdPrefix(workflowId: string): string {
  return `trellis-tick-${workflowId}`;
}

/** The task queue of audience enrolments: the executions' queue with a suffix, served by a worker of its own. */
export function enrolmentTaskQueue(taskQueue: string): string {
  return `${taskQueue}-enrolment`;
}
