/** /templates (SPEC §5.2). */
import { z } from 'zod';
import { endpoint, pathParam } from '../endpoint';
import { jsonObject, pagination } from '../schemas/common';
import { templateFields } from '../schemas/documents';
import { documentAs } from '../schemas/registry';
import { Template, TemplatePage, TemplatePreview } from '../schemas/resources';

const fields = templateFields;
const templateId = { id: pathParam.id('template') };
const example = { name: 'Welcome', subject: 'Welcome, {{firstName ?? friend}}', body: '<p>Hello {{firstName ?? there}}!</p>', type: 'MARKETING' };

export const createTemplate = endpoint({
  operationId: 'createTemplate',
  method: 'post',
  path: '/templates',
  auth: 'sk',
  tag: 'Templates',
  summary: 'Create an email template',
  description: 'Subject, body and text are Liquid templates; one that does not parse is refused naming line and column.',
  body: z.strictObject(fields),
  bodyExample: example,
  responses: { 201: Template },
});

export const listTemplates = endpoint({
  operationId: 'listTemplates',
  method: 'get',
  path: '/templates',
  auth: 'sk',
  tag: 'Templates',
  summary: 'List templates',
  query: z.object({ search: z.string().optional(), ...pagination }),
  responses: { 200: TemplatePage },
});

export const getTemplate = endpoint({
  operationId: 'getTemplate',
  method: 'get',
  path: '/templates/:id',
  auth: 'sk',
  tag: 'Templates',
  summary: 'Get a template',
  params: templateId,
  responses: { 200: Template },
});

export const previewTemplate = endpoint({
  operationId: 'previewTemplate',
  method: 'post',
  path: '/templates/:id/preview',
  auth: 'sk',
  tag: 'Templates',
  summary: 'Render a template without sending it',
  description: 'For a contact (`contactId`) or for given `data`, with an optional `context`; nothing is sent or recorded.',
  params: templateId,
  // Either contactId or data, checked by the handler (its error names contactId); the document shows both forms.
  body: documentAs(
    z.strictObject({ contactId: z.uuid().optional(), data: jsonObject.optional(), context: jsonObject.optional() }),
    z.union([z.strictObject({ contactId: z.uuid(), context: jsonObject.optional() }), z.strictObject({ data: jsonObject, context: jsonObject.optional() })]),
  ),
  bodyExample: { data: { email: 'ada@example.com', firstName: 'Ada' } },
  responses: { 200: TemplatePreview },
});

export const updateTemplate = endpoint({
  operationId: 'updateTemplate',
  method: 'patch',
  path: '/templates/:id',
  auth: 'sk',
  tag: 'Templates',
  summary: 'Update a template',
  description: 'Cosmetic: never locks a workflow; the next send uses the new content.',
  params: templateId,
  body: z.strictObject({ ...fields, name: fields.name.optional(), subject: fields.subject.optional(), body: fields.body.optional() }),
  bodyExample: { subject: 'Welcome aboard' },
  responses: { 200: Template },
});

export const deleteTemplate = endpoint({
  operationId: 'deleteTemplate',
  method: 'delete',
  path: '/templates/:id',
  auth: 'sk',
  tag: 'Templates',
  summary: 'Delete a template',
  description: "Refused (409) while a step of a workflow's current graph uses it.",
  params: templateId,
  responses: { 204: null },
  errors: { 409: ['CONFLICT'] },
});
