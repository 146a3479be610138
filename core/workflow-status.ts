/** A workflow's derived status (SPEC §14.5), as Bento shows it: Draft, Active, Paused or Archived. */

export const WORKFLOW_STATUSES = ['DRAFT', 'ACTIVE', 'PAUSED', 'ARCHIVED'] as const;
export type WorkflowStatus = (typeof WORKFLOW_STATUSES)[number];

/** DRAFT until first enabled, then ACTIVE or PAUSED with `enabled`; ARCHIVED above all. */
export function workflowStatus(w: { enabled: boolean; everEnabled: boolean; archived: boolean }): WorkflowStatus {
  if (w.archived) return 'ARCHIVED';
  if (w.enabled) return 'ACTIVE';
  return w.everEnabled ? 'PAUSED' : 'DRAFT';
}
