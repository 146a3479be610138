/** Bulk starts (SPEC §5.5): enrol a segment or a list of contacts in the background, and follow its progress. */
import { and, eq } from 'drizzle-orm';
import { createEnrolment, segmentExists } from '../../db/enrolments';
import { queueCommands } from '../../db/outbox';
import { enrolments, workflows } from '../../db/schema';
import * as api from '../contracts/enrolments';
import type { ApiDeps } from '../deps';
import { ApiError, badRequest, notFound } from '../errors';
import { enrolmentOut } from '../serialize';
import { route, type Route } from '../routing';

export function enrolmentRoutes({ database, dispatcher }: ApiDeps): Route[] {
  const { db } = database;
  return [
    // Durable when answered: the enrolment and the queued start of its workflow commit together, and
    // the outbox dispatcher starts it (also after a crash, or once Temporal is back).
    route(api.startBulkEnrolment, async ({ project, params: { id }, body }) => {
      const enrolment = await db.transaction(async (tx) => {
        const [workflow] = await tx
          .select()
          .from(workflows)
          .where(and(eq(workflows.id, id), eq(workflows.projectId, project.id)))
          .for('share');
        if (!workflow) throw notFound('workflow');
        if (!workflow.enabled) throw new ApiError(400, 'WORKFLOW_DISABLED', 'the workflow is disabled; enable it to start executions');
        if (body.segmentId !== undefined && !(await segmentExists(tx, project.id, body.segmentId))) {
          throw badRequest(`segment ${body.segmentId} not found in this project`, [{ path: 'segmentId', message: 'no such segment in this project' }]);
        }
        const row = await createEnrolment(tx, {
          projectId: project.id,
          workflowId: workflow.id,
          source: 'BULK',
          segmentId: body.segmentId,
          contactIds: body.contactIds ? [...new Set(body.contactIds.map((c) => c.toLowerCase()))] : undefined,
          subscribedOnly: false,
          context: body.context ?? {},
        });
        await queueCommands(tx, [{ kind: 'enrolment', enrolmentId: row.id }]);
        return row;
      });
      dispatcher.kick();
      return { enrolmentId: enrolment.id };
    }),

    route(api.getEnrolment, async ({ project, params: { id, enrolmentId } }) => {
      const [row] = await db
        .select()
        .from(enrolments)
        .where(and(eq(enrolments.id, enrolmentId), eq(enrolments.workflowId, id), eq(enrolments.projectId, project.id)));
      if (!row) throw notFound('enrolment');
      return enrolmentOut(row);
    }),
  ];
}
