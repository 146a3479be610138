/** Bulk starts (SPEC §5.5): enrol a segment or a list of contacts in the background, and follow its progress. */
import { getEnrolment, startBulkEnrolment } from '../../db/enrolments';
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
      const result = await startBulkEnrolment(db, {
        projectId: project.id,
        workflowId: id,
        segmentId: body.segmentId,
        contactIds: body.contactIds ? [...new Set(body.contactIds.map((c) => c.toLowerCase()))] : undefined,
        context: body.context ?? {},
      });
      if ('refused' in result) {
        if (result.refused === 'NO_WORKFLOW') throw notFound('workflow');
        if (result.refused === 'WORKFLOW_DISABLED') throw new ApiError(400, 'WORKFLOW_DISABLED', 'the workflow is disabled; enable it to start executions');
        throw badRequest(`segment ${body.segmentId} not found in this project`, [{ path: 'segmentId', message: 'no such segment in this project' }]);
      }
      dispatcher.kick();
      return { enrolmentId: result.enrolment.id };
    }),

    route(api.getEnrolment, async ({ project, params: { id, enrolmentId } }) => {
      const row = await getEnrolment(db, project.id, id, enrolmentId);
      if (!row) throw notFound('enrolment');
      return enrolmentOut(row);
    }),
  ];
}
