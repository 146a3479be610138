/**
 * START_WORKFLOW: one transaction enrols the contact in the target workflow (its execution row and
 * the queued Temporal start, as /v1/track does) and completes the step, so a retried attempt answers
 * the first one's output and never enrols twice.
 */
import { and, eq } from 'drizzle-orm';
import { enrolsAtDepth } from '../core/event-names';
import type { JsonObject, StepActivityBase, StepActivityResult } from '../core/execution';
import { lockContact } from '../db/contacts';
import { enrolContact } from '../db/enrol';
import { executions, workflows } from '../db/schema';
import type { ActivityDeps } from './deps';
import { buildVariables } from './render';
import { closeStep, openStep } from './step';

export interface StartWorkflowRequest extends StepActivityBase {
  targetWorkflowId: string;
  /** Rendered with the execution's variables, then merged over its context. */
  targetContext?: JsonObject;
  context: JsonObject;
}

export type StartWorkflowOutput = { executionId: string } | { skipped: string };

export function startWorkflowActivities({ database, renderer, onCommandsQueued }: ActivityDeps) {
  return {
    async startWorkflow(req: StartWorkflowRequest): Promise<StepActivityResult> {
      let queued = false;
      const result = await database.db.transaction(async (tx): Promise<StepActivityResult> => {
        const owner = await openStep(tx, req, { recordRunning: false });
        if (!owner.open) return owner.result;
        // enrolContact's callers hold the contact's row lock, so its enrolments see each other.
        const contact = await lockContact(tx, owner.projectId, owner.contactId);
        if (!contact) return { done: false, reason: 'inactive' };
        const [source] = await tx.select({ workflowId: executions.workflowId }).from(executions).where(eq(executions.id, req.executionId));
        // A share lock, as for /v1/track: no structural edit slips between the version read and the snapshot.
        const [target] = await tx
          .select()
          .from(workflows)
          .where(and(eq(workflows.id, req.targetWorkflowId), eq(workflows.projectId, owner.projectId)))
          .for('share');
        const depth = owner.depth + 1;
        let output: StartWorkflowOutput;
        if (!target) output = { skipped: 'WORKFLOW_NOT_FOUND' };
        else if (target.archived) output = { skipped: 'WORKFLOW_ARCHIVED' };
        else if (!target.enabled) output = { skipped: 'WORKFLOW_DISABLED' };
        else if (!enrolsAtDepth(depth)) output = { skipped: 'depth' };
        else {
          const vars = buildVariables({ contact, context: req.context });
          const extra = req.targetContext === undefined ? {} : ((await renderer.values(vars, [], req.targetContext)).json as JsonObject);
          const enrolled = await enrolContact(tx, {
            workflow: target,
            contactId: contact.id,
            context: { ...req.context, ...extra },
            trigger: { type: 'START_WORKFLOW', workflowId: source?.workflowId ?? null, executionId: req.executionId },
            depth,
          });
          output = enrolled.ok ? { executionId: enrolled.execution.id } : { skipped: enrolled.code };
          queued = enrolled.ok;
        }
        await closeStep(tx, req, output);
        return { done: true, output };
      });
      if (queued) onCommandsQueued();
      return result;
    },
  };
}
