/** Read-only lists: GET /events and GET /emails. */
import { Router } from 'express';
import { and, count, desc, eq } from 'drizzle-orm';
import { z } from 'zod';
import { emails, events } from '../../db/schema';
import { projectOf } from '../auth';
import type { ApiDeps } from '../deps';
import { eventOut, emailOut } from '../serialize';
import { listOf, pagination, parse } from '../validate';

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
    const [total] = await db.select({ n: count() }).from(events).where(where);
    const rows = await db.select().from(events).where(where).orderBy(desc(events.createdAt), desc(events.id)).limit(q.pageSize).offset((q.page - 1) * q.pageSize);
    res.json(listOf(rows.map(eventOut), total!.n, q.page, q.pageSize));
  });

  router.get('/emails', async (req, res) => {
    const project = projectOf(req);
    const q = parse(z.object({ contactId: z.uuid().optional(), executionId: z.uuid().optional(), ...pagination }), req.query, 'query');
    const where = and(
      eq(emails.projectId, project.id),
      q.contactId ? eq(emails.contactId, q.contactId) : undefined,
      q.executionId ? eq(emails.executionId, q.executionId) : undefined,
    );
    const [total] = await db.select({ n: count() }).from(emails).where(where);
    const rows = await db.select().from(emails).where(where).orderBy(desc(emails.sentAt), desc(emails.id)).limit(q.pageSize).offset((q.page - 1) * q.pageSize);
    res.json(listOf(rows.map(emailOut), total!.n, q.page, q.pageSize));
  });

  return router;
}
