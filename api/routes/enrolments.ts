/** Bulk starts (SPEC §5.5): enrol a segment or a list of contacts in the background, and follow its progress. */
import { Router } from 'express';
import { and, eq } from 'drizzle-orm';
import { z } from 'zod';
import { createEnrolment, segmentExists } from '../../db/enrolments';
import { queueCommands } from '../../db/outbox';
import { enrolments, workflows } from '../../db/schema';
import { projectOf } from '../auth';
import type { ApiDeps } from '../deps';
import { ApiError, badRequest, notFound } from '../errors';
import { enrolmentOut } from '../serialize';
import { jsonObject, parse, pathId } from '../validate';

const MAX_CONTACT_IDS = 1000;

const bulkStart = z
  .strictObject({
    segmentId: z.uuid().optional(),
    contactIds: z.array(z.uuid()).min(1).max(MAX_CONTACT_IDS).optional(),
    context: jsonObject.optional(),
  })
  .refine((b) => (b.segmentId === undefined) !== (b.contactIds === undefined), { message: 'give exactly one of segmentId or contactIds' });

export function enrolmentRoutes({ database, dispatcher }: ApiDeps): Router {
  const router = Router();
  const { db } = database;

  // Durable when answered: the enrolment and the queued start of its workflow commit together, and
  // the outbox dispatcher starts it (also after a crash, or once Temporal is back).
  router.post('/workflows/:id/executions/bulk', async (req, res) => {
    const project = projectOf(req);
    const id = pathId(req.params.id, 'workflow');
    const body = parse(bulkStart, req.body);
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
    res.status(202).json({ enrolmentId: enrolment.id });
  });

  router.get('/workflows/:id/enrolments/:enrolmentId', async (req, res) => {
    const project = projectOf(req);
    const id = pathId(req.params.id, 'workflow');
    const enrolmentId = pathId(req.params.enrolmentId, 'enrolment');
    const [row] = await db
      .select()
      .from(enrolments)
      .where(and(eq(enrolments.id, enrolmentId), eq(enrolments.workflowId, id), eq(enrolments.projectId, project.id)));
    if (!row) throw notFound('enrolment');
    res.json(enrolmentOut(row));
  });

  return router;
}
