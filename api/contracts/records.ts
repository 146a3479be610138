/** Read-only lists: GET /events and GET /emails. */
import { z } from 'zod';
import { endpoint } from '../endpoint';
import { pagination } from '../schemas/common';
import { EmailPage, EventPage } from '../schemas/resources';

export const listEvents = endpoint({
  operationId: 'listEvents',
  method: 'get',
  path: '/events',
  auth: 'sk',
  tag: 'Events and emails',
  summary: 'List stored events, newest first',
  query: z.object({ contactId: z.uuid().optional(), name: z.string().min(1).optional(), ...pagination }),
  responses: { 200: EventPage },
});

export const listEmails = endpoint({
  operationId: 'listEmails',
  method: 'get',
  path: '/emails',
  auth: 'sk',
  tag: 'Events and emails',
  summary: 'List every email the engine sent or refused',
  query: z.object({ contactId: z.uuid().optional(), executionId: z.uuid().optional(), ...pagination }),
  responses: { 200: EmailPage },
});
