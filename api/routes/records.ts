/** Read-only lists: GET /events and GET /emails. */
import { Router } from 'express';
import { and, desc, eq } from 'drizzle-orm';
import { z } from 'zod';
import { emails, events } from '../../db/schema';
import { projectOf } from '../auth';
import type { ApiDeps } from '../deps';
import { listPage } from '../paging';
import { eventOut, emailOut } from '../serialize';
import { pagination, parse } from '../validate';

export function recordRoutes({ database }: ApiDeps): Router {
  const router = Router();
  const { db } = database;

  router.get('/events', async (req, res) => {
    const project = projectOf(req);
    const q = parse(z.object({ contactId: z.uuid().optional(), name: z.string().min(1).optional(), ...pagination }), req.query, 'query');
    const where = and(
      eq(events.projectId, project.id),
      q.contactId ? eq(events.contactId, q.contactId) : undefined,
      q.name ? eq(events.name, q.name) : undefined,
    );
    res.json(await listPage(db, events, where, [desc(events.createdAt), desc(events.id)], q, eventOut));
  });

  router.get('/emails', async (req, res) => {
    const project = projectOf(req);
    const q = parse(z.object({ contactId: z.uuid().optional(), executionId: z.uuid().optional(), ...pagination }), req.query, 'query');
    const where = and(
      eq(emails.projectId, project.id),
      q.contactId ? eq(emails.contactId, q.contactId) : undefined,
      q.executionId ? eq(emails.executionId, q.executionId) : undefined,
    );
    res.json(await listPage(db, emails, where, [desc(emails.sentAt), desc(emails.id)], q, emailOut));
  });

  return router;
}
