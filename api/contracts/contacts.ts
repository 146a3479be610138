/** /contacts (SPEC §5.1) and a contact's executions. */
import { z } from 'zod';
import { endpoint, pathParam } from '../endpoint';
import { tag, tagList } from '../../core/tags';
import { emailInput, jsonObject, pagination } from '../schemas/common';
import { Contact, ContactPage, ExecutionPage } from '../schemas/resources';

const email = emailInput();
const contactId = { id: pathParam.id('contact') };

export const createContact = endpoint({
  operationId: 'createContact',
  method: 'post',
  path: '/contacts',
  auth: 'sk',
  tag: 'Contacts',
  summary: 'Create a contact',
  description: 'The email is trimmed and lower-cased, unique per project.',
  body: z.strictObject({ email, subscribed: z.boolean().optional(), data: jsonObject.optional(), tags: tagList.optional() }),
  bodyExample: { email: 'ada@example.com', data: { plan: 'pro' }, tags: ['customer'] },
  responses: { 201: Contact },
  errors: { 409: ['CONFLICT'] },
});

export const listContacts = endpoint({
  operationId: 'listContacts',
  method: 'get',
  path: '/contacts',
  auth: 'sk',
  tag: 'Contacts',
  summary: 'List contacts',
  description: '`search` is a case-insensitive substring of the email.',
  query: z.object({ search: z.string().optional(), tag: tag.optional(), ...pagination }),
  responses: { 200: ContactPage },
});

export const getContact = endpoint({
  operationId: 'getContact',
  method: 'get',
  path: '/contacts/:id',
  auth: 'sk',
  tag: 'Contacts',
  summary: 'Get a contact',
  params: contactId,
  responses: { 200: Contact },
});

export const updateContact = endpoint({
  operationId: 'updateContact',
  method: 'patch',
  path: '/contacts/:id',
  auth: 'sk',
  tag: 'Contacts',
  summary: 'Update a contact',
  description:
    '`data` is merged shallowly; a key set to null is removed. A change of `subscribed` records `contact.subscribed` / `contact.unsubscribed`. `tags` replaces the tags, recording `tag.<tag>.added` / `tag.<tag>.removed` for each real change.',
  params: contactId,
  body: z.strictObject({ email: email.optional(), subscribed: z.boolean().optional(), data: jsonObject.optional(), tags: tagList.optional() }),
  bodyExample: { subscribed: false, data: { plan: null } },
  responses: { 200: Contact },
  errors: { 409: ['CONFLICT'] },
});

export const deleteContact = endpoint({
  operationId: 'deleteContact',
  method: 'delete',
  path: '/contacts/:id',
  auth: 'sk',
  tag: 'Contacts',
  summary: 'Delete a contact',
  description: "Cancels the contact's active executions, then erases it with its events, executions and emails.",
  params: contactId,
  responses: { 204: null },
});

export const listContactExecutions = endpoint({
  operationId: 'listContactExecutions',
  method: 'get',
  path: '/contacts/:id/executions',
  auth: 'sk',
  tag: 'Contacts',
  summary: "List a contact's executions across workflows",
  params: contactId,
  query: z.object(pagination),
  responses: { 200: ExecutionPage },
});

export const addContactTags = endpoint({
  operationId: 'addContactTags',
  method: 'post',
  path: '/contacts/:id/tags',
  auth: 'sk',
  tag: 'Contacts',
  summary: 'Add tags to a contact',
  description: 'Records `tag.<tag>.added` for each tag the contact did not have.',
  params: contactId,
  body: z.strictObject({ tags: tagList.refine((tags) => tags.length > 0, 'give at least one tag') }),
  bodyExample: { tags: ['customer', 'vip'] },
  responses: { 200: Contact },
});

export const removeContactTag = endpoint({
  operationId: 'removeContactTag',
  method: 'delete',
  path: '/contacts/:id/tags/:tag',
  auth: 'sk',
  tag: 'Contacts',
  summary: 'Remove a tag from a contact',
  description: 'Records `tag.<tag>.removed` when the contact had it; removing a tag it lacks changes nothing.',
  params: { ...contactId, tag: pathParam.token('tag') },
  responses: { 204: null },
  errors: { 400: ['VALIDATION_ERROR'] },
});
