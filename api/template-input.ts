/** Checking the Liquid of a template a client writes (in /templates and in workflow documents). */
import { checkTemplate } from '../core/render';
import type { ErrorDetail } from './errors';

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
