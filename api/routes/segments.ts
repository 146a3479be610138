/**
 * /segments (SPEC §5.7): named audiences over the filter language of §7.5. Creating one or changing
 * its filter answers at once with `computing: true`; a Temporal workflow computes the members.
 */
import type { Filter } from '../../core/filter';
import { eventFieldPaths, slugFromName } from '../../core/segment';
import { createSegment, deleteSegment, getSegment, listSegments, lockSegment, memberPage, updateSegment, workflowsScheduledOn } from '../../db/segments';
import * as api from '../contracts/segments';
import type { ApiDeps } from '../deps';
import { badRequest, conflict, isUniqueViolation, notFound } from '../errors';
import { route, type Route } from '../routing';
import { contactOut, segmentOut } from '../serialize';
import { listOf } from '../validate';

/** Segments see contacts only: a comparison on the execution context (`event.*`) is refused with its path. */
function refuseEventFields(filter: Filter | undefined): void {
  const paths = filter ? eventFieldPaths(filter) : [];
  if (paths.length === 0) return;
  const details = paths.map((p) => ({ path: ['filter', ...p].join('.'), message: 'segments cannot use event.* fields (there is no event)' }));
  throw badRequest(`invalid body: ${details.map((d) => `${d.path}: ${d.message}`).join('; ')}`, details);
}

const slugTaken = (slug: string) => conflict(`a segment with slug "${slug}" already exists; choose another slug`);

export function segmentRoutes({ database, dispatcher }: ApiDeps): Route[] {
  const { db } = database;
  return [
    route(api.createSegment, async ({ project, body }) => {
      refuseEventFields(body.filter);
      const slug = body.slug ?? slugFromName(body.name);
      const row = await db.transaction((tx) =>
        createSegment(tx, { projectId: project.id, name: body.name, slug, filter: body.filter, trackMembership: body.trackMembership ?? false }),
      );
      if (!row) throw slugTaken(slug);
      dispatcher.kick();
      return segmentOut(row);
    }),

    route(api.listSegments, async ({ project, query }) => {
      const { total, rows } = await listSegments(db, project.id, query);
      return listOf(rows.map(segmentOut), total, query.page, query.pageSize);
    }),

    route(api.getSegment, async ({ project, params }) => {
      const row = await getSegment(db, project.id, params.id);
      if (!row) throw notFound('segment');
      return segmentOut(row);
    }),

    route(api.updateSegment, async ({ project, params: { id }, body }) => {
      refuseEventFields(body.filter);
      try {
        const row = await db.transaction(async (tx) => {
          const current = await lockSegment(tx, project.id, id);
          if (!current) throw notFound('segment');
          await updateSegment(tx, current, body);
          return (await getSegment(tx, project.id, id))!;
        });
        dispatcher.kick();
        return segmentOut(row);
      } catch (err) {
        if (body.slug !== undefined && isUniqueViolation(err)) throw slugTaken(body.slug);
        throw err;
      }
    }),

    route(api.deleteSegment, async ({ project, params: { id } }) => {
      await db.transaction(async (tx) => {
        const current = await lockSegment(tx, project.id, id);
        if (!current) throw notFound('segment');
        const users = await workflowsScheduledOn(tx, project.id, id);
        if (users.length) throw conflict(`segment is the audience of scheduled workflow(s): ${users.join(', ')}`, 'CONFLICT', { workflows: users });
        await deleteSegment(tx, id);
      });
    }),

    route(api.listSegmentContacts, async ({ project, params: { id }, query }) => {
      if (!(await getSegment(db, project.id, id))) throw notFound('segment');
      const { total, rows } = await memberPage(db, id, query);
      return listOf(rows.map(contactOut), total, query.page, query.pageSize);
    }),
  ];
}
