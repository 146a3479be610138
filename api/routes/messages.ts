/** GET /messages: text messages of SEND_SMS steps. */
import { messagePage } from '../../db/messages';
import * as api from '../contracts/messages';
import type { ApiDeps } from '../deps';
import { pageOut } from '../paging';
import { route, type Route } from '../routing';
import { messageOut } from '../serialize';

export function messageRoutes({ database }: ApiDeps): Route[] {
  return [route(api.listMessages, async ({ project, query: q }) => pageOut(await messagePage(database.db, project.id, q), q, messageOut))];
}
