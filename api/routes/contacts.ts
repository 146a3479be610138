/** /contacts (SPEC §5.1) and a contact's executions. */
import { Router } from 'express';
import { and, arrayContains, desc, eq, ilike } from 'drizzle-orm';
import { z } from 'zod';
import { emailAddress } from '../../core/email-address';
import { tag, tagList } from '../../core/tags';
import { cancelExecutions } from '../../db/cancel';
import { insertContact, lockContact } from '../../db/contacts';
import { changeContact } from './contact-tags';
import { contacts, executions } from '../../db/schema';
import { projectOf } from '../auth';
import type { ApiDeps } from '../deps';
import { listPage } from '../paging';
import { conflict, isUniqueViolation, notFound } from '../errors';
import { executionOut, contactOut } from '../serialize';
import { jsonObject, pagination, parse, pathId } from '../validate';

const email = emailAddress;
const createContact = z.strictObject({ email, subscribed: z.boolean().optional(), data: jsonObject.optional(), tags: tagList.optional() });
const patchContact = z.strictObject({ email: email.optional(), subscribed: z.boolean().optional(), data: jsonObject.optional(), tags: tagList.optional() });
const listQuery = z.object({ search: z.string().optional(), tag: tag.optional(), ...pagination });

/** Escapes LIKE wildcards so a search is a plain substring test. */
export function likePattern(s: string): string {
  return `%${s.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

export function contactRoutes({ database, dispatcher }: ApiDeps): Router {
  const router = Router();
  const { db } = database;

  router.post('/contacts', async (req, res) => {
    const project = projectOf(req);
    const body = parse(createContact, req.body);
    const row = await db.transaction((tx) => insertContact(tx, project.id, body));
    if (!row) throw conflict(`a contact with email ${body.email} already exists`);
    // Its segment entries may have started workflows.
    dispatcher.kick();
    res.status(201).json(contactOut(row));
  });

  router.get('/contacts', async (req, res) => {
    const project = projectOf(req);
    const q = parse(listQuery, req.query, 'query');
    const where = and(
      eq(contacts.projectId, project.id),
      q.search ? ilike(contacts.email, likePattern(q.search)) : undefined,
      q.tag ? arrayContains(contacts.tags, [q.tag]) : undefined,
    );
    res.json(await listPage(db, contacts, where, [desc(contacts.createdAt), desc(contacts.id)], q, contactOut));
  });

  router.get('/contacts/:id', async (req, res) => {
    const project = projectOf(req);
    const id = pathId(req.params.id, 'contact');
    const [row] = await db.select().from(contacts).where(and(eq(contacts.id, id), eq(contacts.projectId, project.id)));
    if (!row) throw notFound('contact');
    res.json(contactOut(row));
  });

  router.patch('/contacts/:id', async (req, res) => {
    const project = projectOf(req);
    const id = pathId(req.params.id, 'contact');
    const body = parse(patchContact, req.body);
    try {
      const row = await db.transaction(async (tx) => {
        const current = await lockContact(tx, project.id, id);
        if (!current) throw notFound('contact');
        return changeContact(tx, current, body);
      });
      dispatcher.kick();
      res.json(contactOut(row));
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict(`a contact with email ${body.email} already exists`);
      throw err;
    }
  });

  router.delete('/contacts/:id', async (req, res) => {
    const project = projectOf(req);
    const id = pathId(req.params.id, 'contact');
    await db.transaction(async (tx) => {
      const current = await lockContact(tx, project.id, id);
      if (!current) throw notFound('contact');
      await cancelExecutions(tx, eq(executions.contactId, id));
      await tx.delete(contacts).where(eq(contacts.id, id));
    });
    dispatcher.kick();
    res.status(204).end();
  });

  router.get('/contacts/:id/executions', async (req, res) => {
    const project = projectOf(req);
    const id = pathId(req.params.id, 'contact');
    const q = parse(z.object(pagination), req.query, 'query');
    const [contact] = await db.select({ id: contacts.id }).from(contacts).where(and(eq(contacts.id, id), eq(contacts.projectId, project.id)));
    if (!contact) throw notFound('contact');
    const where = eq(executions.contactId, id);
    res.json(await listPage(db, executions, where, [desc(executions.startedAt), desc(executions.id)], q, executionOut));
  });

  return router;
}
