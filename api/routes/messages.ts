/** GET /messages: text messages of SEND_SMS steps. */
import { listMessages } from '../../db/messages';
import * as api from '../contracts/messages';
import type { ApiDeps } from '../deps';
import { route, type Route } from '../routing';
import { messageOut } from '../serialize';
import { listOf } from '../validate';

export function messageRoutes({ database }: ApiDeps): Route[] {
  return [
    route(api.listMessages, async ({ project, query: q }) => {
      const { rows, total } = await listMessages(database.db, project.id, q, q);
      return listOf(rows.map(messageOut), total, q.page, q.pageSize);
    }),
  ];
}
