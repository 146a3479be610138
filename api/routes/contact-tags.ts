/** A contact's tags (SPEC §14.1): add some, remove one. Each real change records its `tag.*` event. */
import { Router } from 'express';
import { z } from 'zod';
import { tag, tagList, TooManyTags } from '../../core/tags';
import type { Tx } from '../../db/client';
import { lockContact, updateContactRow, type ContactChange, type ContactRow } from '../../db/contacts';
import { projectOf } from '../auth';
import type { ApiDeps } from '../deps';
import { badRequest, notFound } from '../errors';
import { contactOut } from '../serialize';
import { parse, pathId } from '../validate';

const addTags = z.strictObject({ tags: tagList.refine((tags) => tags.length > 0, 'give at least one tag') });

/** Changes a contact's tags (or other fields) in `tx`, turning the tag limit into a 400 on `tags`. */
export async function changeContact(tx: Tx, current: ContactRow, change: ContactChange): Promise<ContactRow> {
  try {
    return await updateContactRow(tx, current, change);
  } catch (err) {
    if (err instanceof TooManyTags) throw badRequest(err.message, [{ path: 'tags', message: err.message }]);
    throw err;
  }
}

export function contactTagRoutes({ database, dispatcher }: ApiDeps): Router {
  const router = Router();
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

  router.post('/contacts/:id/tags', async (req, res) => {
    const project = projectOf(req);
    const id = pathId(req.params.id, 'contact');
    const body = parse(addTags, req.body);
    res.json(contactOut(await change(project.id, id, { addTags: body.tags })));
  });

  router.delete('/contacts/:id/tags/:tag', async (req, res) => {
    const project = projectOf(req);
    const id = pathId(req.params.id, 'contact');
    const removed = parse(tag, req.params.tag, 'tag');
    await change(project.id, id, { removeTags: [removed] });
    res.status(204).end();
  });

  return router;
}
