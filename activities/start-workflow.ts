/**
 * START_WORKFLOW: one transaction enrols the contact in the target workflow (its execution row and
 * the queued Temporal start, as /v1/track does) and completes the step, so a retried attempt answers
 * the first one's output and never enrols twice.
 */
import { and, eq } from 'drizzle-orm';
import { enrolsAtDepth } from '../core/event-names';
import type { JsonObject, StepActivityBase, StepActivityResult } from '../core/execution';
import { enrolContact } from '../db/enrol';
import { executions, workflows } from '../db/schema';
import type { ActivityDeps } from './deps';
import { runContactStep } from './step';

export interface StartWorkflowRequest extends StepActivityBase {
  targetWorkflowId: string;
  /** Rendered with the execution's variables, then merged over its context. */
  targetContext?: JsonObject;
  context: JsonObject;
}

export type StartWorkflowOutput = { executionId: string } | { skipped: string };

/** The step's output when the contact was not enrolled, and why. */
function skipped(reason: string): { output: StartWorkflowOutput } {
  return { output: { skipped: reason } };
}

export function startWorkflowActivities(deps: ActivityDeps) {
  return {
    startWorkflow(req: StartWorkflowRequest): Promise<StepActivityResult> {
      return runContactStep(deps, req, async ({ tx, owner, contact, renderJson }) => {
        const [source] = await tx.select({ workflowId: executions.workflowId }).from(executions).where(eq(executions.id, req.executionId));
        // A share lock, as for /v1/track: no structural edit slips between the version read and the snapshot.
        const [target] = await tx
          .select()
          .from(workflows)
          .where(and(eq(workflows.id, req.targetWorkflowId), eq(workflows.projectId, owner.projectId)))
          .for('share');
        const depth = owner.depth + 1;
        if (!target) return skipped('WORKFLOW_NOT_FOUND');
        if (target.archived) return skipped('WORKFLOW_ARCHIVED');
        if (!target.enabled) return skipped('WORKFLOW_DISABLED');
        if (!enrolsAtDepth(depth)) return skipped('depth');
        const extra = req.targetContext === undefined ? {} : await renderJson(req.targetContext);
        // runContactStep holds the contact's row lock, as enrolContact's callers must.
        const enrolled = await enrolContact(tx, {
          workflow: target,
          contactId: contact.id,
          context: { ...req.context, ...extra },
          trigger: { type: 'START_WORKFLOW', workflowId: source?.workflowId ?? null, executionId: req.executionId },
          depth,
        });
        return enrolled.ok ? { output: { executionId: enrolled.execution.id } } : skipped(enrolled.code);
      });
    },
  };
}
