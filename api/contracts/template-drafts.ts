/** Rendering template content that is not saved yet: the web app's live preview (SPEC §15). */
import { z } from 'zod';
import { endpoint } from '../endpoint';
import { jsonObject } from '../schemas/common';
import { templateFields } from '../schemas/documents';
import { TemplatePreview } from '../schemas/resources';

export const previewTemplateDraft = endpoint({
  operationId: 'previewTemplateDraft',
  method: 'post',
  path: '/templates/preview',
  auth: 'sk',
  tag: 'Templates',
  summary: 'Render template content without saving it',
  description:
    'Renders `subject`, `body` and `text` as SEND_EMAIL would (footer, text part; no tracking) for the given `data` and `context`; nothing is stored, sent or recorded. Content that does not parse is refused naming the field, line and column. The unsubscribe and subscribe links are placeholders.',
  body: z.strictObject({
    subject: templateFields.subject,
    body: templateFields.body,
    text: templateFields.text,
    type: templateFields.type,
    data: jsonObject.optional(),
    context: jsonObject.optional(),
  }),
  bodyExample: {
    subject: 'Welcome, {{firstName ?? friend}}',
    body: '<p>Hello {{firstName ?? there}}!</p>',
    data: { email: 'ada@example.com', firstName: 'Ada' },
  },
  responses: { 200: TemplatePreview },
});
