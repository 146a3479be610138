/** A contact's tags (SPEC §14.1): add some, remove one. Each real change records its `tag.*` event. */
import { tag } from '../../core/tags';
import type { ContactChange, ContactRow } from '../../db/contacts';
import { changeContactOrFail } from '../contact-change';
import * as api from '../contracts/contacts';
import type { ApiDeps } from '../deps';
import { contactOut } from '../serialize';
import { route, type Route } from '../routing';
import { parse } from '../validate';

export function contactTagRoutes({ database, dispatcher }: ApiDeps): Route[] {
  const { db } = database;

  async function change(projectId: string, id: string, tagChange: ContactChange): Promise<ContactRow> {
    const row = await changeContactOrFail(db, projectId, id, tagChange);
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
