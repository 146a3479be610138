/**
 * /segments (SPEC §5.7): named audiences over the filter language of §7.5. Creating one or changing
 * its filter answers at once with `computing: true`; a Temporal workflow computes the members.
 */
import { Router } from 'express';
import { z } from 'zod';
import type { Filter } from '../../core/filter';
import { filterSchema } from '../../core/filter-schema';
import { SEGMENT_SLUG, eventFieldPaths, slugFromName } from '../../core/segment';
import { createSegment, deleteSegment, getSegment, listSegments, lockSegment, memberPage, updateSegment, workflowsScheduledOn } from '../../db/segments';
import { projectOf } from '../auth';
import type { ApiDeps } from '../deps';
import { badRequest, conflict, isUniqueViolation, notFound } from '../errors';
import { contactOut, segmentOut } from '../serialize';
import { listOf, pagination, parse, pathId } from '../validate';

const fields = {
  name: z.string().trim().min(1).max(200),
  slug: z.string().regex(SEGMENT_SLUG, 'must be 1 to 64 of a-z, 0-9, "_" and "-", starting with a letter or digit'),
  filter: filterSchema,
  trackMembership: z.boolean(),
};
const createBody = z.strictObject({ ...fields, slug: fields.slug.optional(), trackMembership: fields.trackMembership.optional() });
const patchBody = z.strictObject({
  name: fields.name.optional(),
  slug: fields.slug.optional(),
  filter: fields.filter.optional(),
  trackMembership: fields.trackMembership.optional(),
});
const pageQuery = z.object(pagination);

/** Segments see contacts only: a comparison on the execution context (`event.*`) is refused with its path. */
function refuseEventFields(filter: Filter | undefined): void {
  const paths = filter ? eventFieldPaths(filter) : [];
  if (paths.length === 0) return;
  const details = paths.map((p) => ({ path: ['filter', ...p].join('.'), message: 'segments cannot use event.* fields (there is no event)' }));
  throw badRequest(`invalid body: ${details.map((d) => `${d.path}: ${d.message}`).join('; ')}`, details);
}

const slugTaken = (slug: string) => conflict(`a segment with slug "${slug}" already exists; choose another slug`);

export function segmentRoutes({ database, dispatcher }: ApiDeps): Router {
  const router = Router();
  const { db } = database;

  router.post('/segments', async (req, res) => {
    const project = projectOf(req);
    const body = parse(createBody, req.body);
    refuseEventFields(body.filter);
    const slug = body.slug ?? slugFromName(body.name);
    const row = await db.transaction((tx) =>
      createSegment(tx, { projectId: project.id, name: body.name, slug, filter: body.filter, trackMembership: body.trackMembership ?? false }),
    );
    if (!row) throw slugTaken(slug);
    dispatcher.kick();
    res.status(201).json(segmentOut(row));
  });

  router.get('/segments', async (req, res) => {
    const project = projectOf(req);
    const q = parse(pageQuery, req.query, 'query');
    const { total, rows } = await listSegments(db, project.id, q);
    res.json(listOf(rows.map(segmentOut), total, q.page, q.pageSize));
  });

  router.get('/segments/:id', async (req, res) => {
    const project = projectOf(req);
    const row = await getSegment(db, project.id, pathId(req.params.id, 'segment'));
    if (!row) throw notFound('segment');
    res.json(segmentOut(row));
  });

  router.patch('/segments/:id', async (req, res) => {
    const project = projectOf(req);
    const id = pathId(req.params.id, 'segment');
    const body = parse(patchBody, req.body);
    refuseEventFields(body.filter);
    try {
      const row = await db.transaction(async (tx) => {
        const current = await lockSegment(tx, project.id, id);
        if (!current) throw notFound('segment');
        await updateSegment(tx, current, body);
        return (await getSegment(tx, project.id, id))!;
      });
      dispatcher.kick();
      res.json(segmentOut(row));
    } catch (err) {
      if (body.slug !== undefined && isUniqueViolation(err)) throw slugTaken(body.slug);
      throw err;
    }
  });

  router.delete('/segments/:id', async (req, res) => {
    const project = projectOf(req);
    const id = pathId(req.params.id, 'segment');
    await db.transaction(async (tx) => {
      const current = await lockSegment(tx, project.id, id);
      if (!current) throw notFound('segment');
      const users = await workflowsScheduledOn(tx, project.id, id);
      if (users.length) throw conflict(`segment is the audience of scheduled workflow(s): ${users.join(', ')}`, 'CONFLICT', { workflows: users });
      await deleteSegment(tx, id);
    });
    res.status(204).end();
  });

  router.get('/segments/:id/contacts', async (req, res) => {
    const project = projectOf(req);
    const id = pathId(req.params.id, 'segment');
    const q = parse(pageQuery, req.query, 'query');
    if (!(await getSegment(db, project.id, id))) throw notFound('segment');
    const { total, rows } = await memberPage(db, id, q);
    res.json(listOf(rows.map(contactOut), total, q.page, q.pageSize));
  });

  return router;
}
