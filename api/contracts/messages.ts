/** GET /messages (SPEC §14.2): the text messages SEND_SMS steps sent or refused. */
import { z } from 'zod';
import { endpoint } from '../endpoint';
import { pagination } from '../schemas/common';
import { MessagePage } from '../schemas/resources';

export const listMessages = endpoint({
  operationId: 'listMessages',
  method: 'get',
  path: '/messages',
  auth: 'sk',
  tag: 'Events and emails',
  summary: 'List every text message the engine sent or refused',
  query: z.object({ contactId: z.uuid().optional(), executionId: z.uuid().optional(), ...pagination }),
  responses: { 200: MessagePage },
});
