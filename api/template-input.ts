/** What a client writes for an email template: the fields of /templates and of workflow documents. */
import { z } from 'zod';
import { checkTemplate } from '../activities/render';
import { emailAddress } from '../core/email-address';
import type { ErrorDetail } from './errors';

export const TEMPLATE_TYPES = ['MARKETING', 'TRANSACTIONAL', 'HEADLESS'] as const;

export const templateFields = {
  name: z.string().trim().min(1).max(200),
  subject: z.string().min(1).max(998),
  body: z.string().min(1).max(1_000_000),
  text: z.string().max(1_000_000).nullable().optional(),
  from: emailAddress.nullable().optional(),
  // A display name goes into the From header: no line breaks or other control characters.
  fromName: z.string().max(200).regex(/^[^\u0000-\u001f\u007f]*$/, 'must not contain line breaks or control characters').nullable().optional(),
  replyTo: emailAddress.nullable().optional(),
  type: z.enum(TEMPLATE_TYPES).optional(),
};

/** One detail per subject, body or text that does not parse, naming line and column; paths under `prefix`. */
export function templateSyntaxIssues(body: { subject?: string; body?: string; text?: string | null }, prefix = ''): ErrorDetail[] {
  const details: ErrorDetail[] = [];
  for (const key of ['subject', 'body', 'text'] as const) {
    const source = body[key];
    if (typeof source !== 'string') continue;
    const r = checkTemplate(source);
    if (!r.ok) details.push({ path: `${prefix}${key}`, message: r.line ? `${r.message} (line ${r.line}, column ${r.column})` : r.message });
  }
  return details;
}
