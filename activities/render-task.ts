/**
 * One unit of template work, as the render threads carry it out (see renderer.ts). Runs on a
 * worker thread in production and in the calling thread nowhere else.
 */
import { composeBody, composeSubject, type TemplateContent } from '../core/compose-email';
import { renderJson, renderLine, TemplateError, type TemplateVariables } from '../core/render';

export type RenderTask =
  | { kind: 'email'; template: TemplateContent; vars: TemplateVariables; unsubscribeUrl: string }
  | { kind: 'values'; vars: TemplateVariables; lines: string[]; json?: unknown };

export type RenderResult =
  | { kind: 'email'; subject: string; html: string; text: string; headers: Record<string, string> }
  | { kind: 'values'; lines: string[]; json?: unknown };

/** A TemplateError crosses the thread boundary as plain data: classes do not survive cloning. */
export type RenderOutcome = { ok: true; result: RenderResult } | { ok: false; reason: string; line?: number; column?: number };

/** Carries out one task. */
export function runRenderTask(task: RenderTask): RenderOutcome {
  try {
    if (task.kind === 'email') {
      const subject = composeSubject(task.template, task.vars);
      return { ok: true, result: { kind: 'email', subject, ...composeBody(task.template, task.vars, task.unsubscribeUrl) } };
    }
    const lines = task.lines.map((source) => renderLine(source, task.vars));
    return { ok: true, result: { kind: 'values', lines, ...(task.json !== undefined ? { json: renderJson(task.json, task.vars) } : {}) } };
  } catch (err) {
    if (err instanceof TemplateError) return { ok: false, reason: err.reason, line: err.line, column: err.column };
    throw err;
  }
}
