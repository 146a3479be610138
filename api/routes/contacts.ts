/** /contacts (SPEC §5.1) and a contact's executions. */
import { and, arrayContains, desc, eq, ilike } from 'drizzle-orm';
import { cancelExecutions } from '../../db/cancel';
import { insertContact, lockContact } from '../../db/contacts';
import { likePattern } from '../../db/search';
import { changeContact } from './contact-tags';
import { contacts, executions } from '../../db/schema';
import * as api from '../contracts/contacts';
import type { ApiDeps } from '../deps';
import { conflict, isUniqueViolation, notFound } from '../errors';
import { listPage } from '../paging';
import { route, type Route } from '../routing';
import { contactOut, executionOut } from '../serialize';

export function contactRoutes({ database, dispatcher }: ApiDeps): Route[] {
  const { db } = database;
  return [
    route(api.createContact, async ({ project, body }) => {
      const row = await db.transaction((tx) => insertContact(tx, project.id, body));
      if (!row) throw conflict(`a contact with email ${body.email} already exists`);
      // Its segment entries may have started workflows.
      dispatcher.kick();
      return contactOut(row);
    }),

    route(api.listContacts, async ({ project, query }) => {
      const where = and(
        eq(contacts.projectId, project.id),
        query.search ? ilike(contacts.email, likePattern(query.search)) : undefined,
        query.tag ? arrayContains(contacts.tags, [query.tag]) : undefined,
      );
      return listPage(db, contacts, where, [desc(contacts.createdAt), desc(contacts.id)], query, contactOut);
    }),

    route(api.getContact, async ({ project, params }) => {
      const [row] = await db
        .select()
        .from(contacts)
        .where(and(eq(contacts.id, params.id), eq(contacts.projectId, project.id)));
      if (!row) throw notFound('contact');
      return contactOut(row);
    }),

    route(api.updateContact, async ({ project, params, body }) => {
      try {
        const row = await db.transaction(async (tx) => {
          const current = await lockContact(tx, project.id, params.id);
          if (!current) throw notFound('contact');
          return changeContact(tx, current, body);
        });
        dispatcher.kick();
        return contactOut(row);
      } catch (err) {
        if (isUniqueViolation(err)) throw conflict(`a contact with email ${body.email} already exists`);
        throw err;
      }
    }),

    route(api.deleteContact, async ({ project, params }) => {
      await db.transaction(async (tx) => {
        const current = await lockContact(tx, project.id, params.id);
        if (!current) throw notFound('contact');
        await cancelExecutions(tx, eq(executions.contactId, params.id));
        await tx.delete(contacts).where(eq(contacts.id, params.id));
      });
      dispatcher.kick();
    }),

    route(api.listContactExecutions, async ({ project, params, query }) => {
      const [contact] = await db
        .select({ id: contacts.id })
        .from(contacts)
        .where(and(eq(contacts.id, params.id), eq(contacts.projectId, project.id)));
      if (!contact) throw notFound('contact');
      return listPage(db, executions, eq(executions.contactId, params.id), [desc(executions.startedAt), desc(executions.id)], query, executionOut);
    }),
  ];
}
