/**
 * Template rendering off the event loop. A template is the one input whose CPU cost a client
 * controls (nested `{% for %}` loops): rendered on the API's or the worker's own thread, one such
 * template stalls every request and every activity of the process. So every render runs on a small
 * pool of worker threads (piscina), each render bounded by the Liquid engine's own time and memory
 * limits (render.ts), and the event loop only waits for the answer. Values made of plain variable
 * outputs alone, whose cost no author controls, are rendered on the calling thread.
 */
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { Piscina } from 'piscina';
import type { ComposedBody, TemplateContent } from '../core/compose-email';
import { markupFree, plainOutputsOnly, renderJson, renderLine, TemplateError, toSingleLine, type TemplateVariables } from '../core/render';
import type { RenderOutcome, RenderResult, RenderTask } from './render-task';

export interface RenderedEmail extends ComposedBody {
  subject: string;
}

/** Renders templates on the pool; every method throws TemplateError for a template that fails. */
export interface Renderer {
  /** The subject, the HTML and text parts and the headers of an email (composeSubject/composeBody). */
  email(template: TemplateContent, vars: TemplateVariables, unsubscribeUrl: string): Promise<RenderedEmail>;
  /** Single lines (renderLine) and, when given, every string inside a JSON value (renderJson). */
  values(vars: TemplateVariables, lines: string[], json?: unknown): Promise<{ lines: string[]; json?: unknown }>;
  close(): Promise<void>;
}

/**
 * Starts a pool of `threads` render threads (started on first use, stopped when idle); by default
 * one core fewer than the machine has, at least one and at most four, so the event loop keeps a
 * core of its own.
 */
export function createRenderer(options: { threads?: number } = {}): Renderer {
  // From TypeScript sources (tests, `npm run dev`) the thread loads its module through tsx.
  const fromSources = __filename.endsWith('.ts');
  const pool = new Piscina({
    filename: path.join(__dirname, `render-thread${fromSources ? '.ts' : '.js'}`),
    execArgv: fromSources ? ['--require', require.resolve('tsx/cjs')] : [],
    minThreads: 0,
    maxThreads: options.threads ?? Math.max(1, Math.min(4, availableParallelism() - 1)),
    idleTimeout: 30_000,
  });

  async function run<K extends RenderResult['kind']>(task: RenderTask & { kind: K }): Promise<RenderResult & { kind: K }> {
    const outcome = (await pool.run(task)) as RenderOutcome;
    if (!outcome.ok) throw new TemplateError(outcome.reason, outcome.line, outcome.column);
    return outcome.result as RenderResult & { kind: K };
  }

  return {
    async email(template, vars, unsubscribeUrl) {
      const { kind: _, ...email } = await run({ kind: 'email', template, vars, unsubscribeUrl });
      return email;
    },
    async values(vars, lines, json) {
      // Literal values (an UPDATE_CONTACT's `{seen: true}`) render to themselves: no trip to a thread.
      if (markupFree(lines) && markupFree(json)) return { lines: lines.map(toSingleLine), ...(json !== undefined ? { json } : {}) };
      // Plain variable outputs (a webhook's `https://…/{{ id }}`) cost next to nothing: rendered here,
      // by the same functions as on a thread, without the trip to one (about half a millisecond).
      if (plainOutputsOnly(lines) && plainOutputsOnly(json)) {
        return { lines: lines.map((source) => renderLine(source, vars)), ...(json !== undefined ? { json: renderJson(json, vars) } : {}) };
      }
      const { kind: _, ...values } = await run({ kind: 'values', vars, lines, json });
      return values;
    },
    close: () => pool.destroy(),
  };
}
