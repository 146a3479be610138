/** Changing a contact from a route: 404 when it is not there, the tag limit as a 400 on `tags`. */
import { TooManyTags } from '../core/tags';
import type { Db } from '../db/client';
import { changeContact, type ContactChange, type ContactRow } from '../db/contacts';
import { badRequest, notFound } from './errors';

/** Applies `change` to a contact of a project, answering the changed row. */
export async function changeContactOrFail(db: Db, projectId: string, contactId: string, change: ContactChange): Promise<ContactRow> {
  let row: ContactRow | undefined;
  try {
    row = await changeContact(db, projectId, contactId, change);
  } catch (err) {
    if (err instanceof TooManyTags) throw badRequest(err.message, [{ path: 'tags', message: err.message }]);
    throw err;
  }
  if (!row) throw notFound('contact');
  return row;
}
