/** /contacts (SPEC §5.1) and a contact's executions. */
import { contactExecutionPage, contactExists, contactPage, deleteContact, getContact, insertContact } from '../../db/contacts';
import { changeContactOrFail } from '../contact-change';
import * as api from '../contracts/contacts';
import type { ApiDeps } from '../deps';
import { conflict, isUniqueViolation, notFound } from '../errors';
import { pageOut } from '../paging';
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
      return pageOut(await contactPage(db, project.id, query), query, contactOut);
    }),

    route(api.getContact, async ({ project, params }) => {
      const row = await getContact(db, project.id, params.id);
      if (!row) throw notFound('contact');
      return contactOut(row);
    }),

    route(api.updateContact, async ({ project, params, body }) => {
      try {
        const row = await changeContactOrFail(db, project.id, params.id, body);
        dispatcher.kick();
        return contactOut(row);
      } catch (err) {
        if (isUniqueViolation(err)) throw conflict(`a contact with email ${body.email} already exists`);
        throw err;
      }
    }),

    route(api.deleteContact, async ({ project, params }) => {
      if (!(await deleteContact(db, project.id, params.id))) throw notFound('contact');
      dispatcher.kick();
    }),

    route(api.listContactExecutions, async ({ project, params, query }) => {
      if (!(await contactExists(db, project.id, params.id))) throw notFound('contact');
      return pageOut(await contactExecutionPage(db, params.id, query), query, executionOut);
    }),
  ];
}
