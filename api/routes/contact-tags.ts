/** A contact's tags (SPEC §14.1): add some, remove one. Each real change records its `tag.*` event. */
import { tag, TooManyTags } from '../../core/tags';
import type { Tx } from '../../db/client';
import { lockContact, updateContactRow, type ContactChange, type ContactRow } from '../../db/contacts';
import * as api from '../contracts/contacts';
import type { ApiDeps } from '../deps';
import { badRequest, notFound } from '../errors';
import { contactOut } from '../serialize';
import { route, type Route } from '../routing';
import { parse } from '../validate';

/** Changes a contact's tags (or other fields) in `tx`, turning the tag limit into a 400 on `tags`. */
export async function changeContact(tx: Tx, current: ContactRow, change: ContactChange): Promise<ContactRow> {
  try {
    return await updateContactRow(tx, current, change);
  } catch (err) {
    if (err instanceof TooManyTags) throw badRequest(err.message, [{ path: 'tags', message: err.message }]);
    throw err;
  }
}

export function contactTagRoutes({ database, dispatcher }: ApiDeps): Route[] {
  const { db } = database;

  async function change(projectId: string, id: string, tagChange: ContactChange): Promise<ContactRow> {
    const row = await db.transaction(async (tx) => {
      const current = await lockContact(tx, projectId, id);
      if (!current) throw notFound('contact');
      return changeContact(tx, current, tagChange);
    });
    // Tag events may have started workflows or resumed waits.
    dispatcher.kick();
    return row;
  }

  return [
    route(api.addContactTags, async ({ project, params, body }) => contactOut(await change(project.id, params.id, { addTags: body.tags }))),

    route(api.removeContactTag, async ({ project, params }) => {
      const removed = parse(tag, params.tag, 'tag');
      await change(project.id, params.id, { removeTags: [removed] });
    }),
  ];
}
