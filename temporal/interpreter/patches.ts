/**
 * The interpreter's patches (`patched(id)`): each marks a change of the commands a run issues, so runs
 * that started before it replay the old way (temporal/README.md, "Changing the interpreter"). Once no
 * run from before a patch is left, its id moves to `deprecatePatch` and the old branch goes.
 */

/** CONDITION evaluates its filter in the activity that loads the contact (its outcome is in history). */
export const CONDITION_OUTCOME_RECORDED = 'condition-outcome-recorded';
