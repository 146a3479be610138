/**
 * Template rendering (SPEC §7.6) for email subjects and bodies, WEBHOOK url/headers/body and
 * UPDATE_CONTACT values. Runs in activities and the API, never in workflow code.
 *
 * Syntax: Liquid (`{{ path }}`, `{% if %}`, `{% for %}`, filters) plus the product's
 * `{{ path ?? fallback }}` form, which is rewritten into `{{ path | fallback: "..." }}` before
 * Liquid parses the template.
 *
 * Decisions:
 * - One shared Liquid instance parses every template; the output mode (plain or HTML) is chosen
 *   per render call, so a parsed template is cached once per source, not once per mode.
 * - Every output value goes through one finishing step: null/undefined → "", objects and arrays →
 *   JSON text, everything else → its text; in HTML mode the result is then HTML-escaped. The
 *   built-in `raw` filter is kept as a no-op so that no value can bypass this step (in HTML
 *   bodies every value is escaped, with no exception). `| escape` in an HTML body therefore
 *   escapes twice; it is never needed there.
 * - `??` fallbacks are literal text: `{{ name ?? there }}`, `{{ name ?? "dear friend" }}` and
 *   `{{ name ?? 'x' }}`. The fallback applies to the final value of the expression, so
 *   `{{ name | upcase ?? "X" }}` is supported and yields "X" when the upcased name is empty.
 *   Filters after the fallback are not (the fallback is literal, not an expression); a quoted
 *   fallback followed by anything else is refused. An unquoted fallback is taken verbatim up to
 *   the closing `}}` and may contain spaces and apostrophes. `??` inside `{% %}` tags, inside
 *   `{% raw %}` and inside `{% comment %}` blocks is left alone.
 * - `include`, `render` and `layout` are refused at parse time: templates never read files.
 */
import { Liquid, LiquidError, toValue, type Template, type TagToken, type TopLevelToken } from 'liquidjs';
import { positionOf, rewriteFallbacks, RewriteError, toOriginalOffset, type Segment } from './fallback-syntax';

/** A template that fails to parse or to render; line and column point into the original source. */
export class TemplateError extends Error {
  override readonly name = 'TemplateError';
  /** The reason alone, without the position. */
  readonly reason: string;
  readonly line?: number;
  readonly column?: number;

  constructor(reason: string, line?: number, column?: number) {
    super(line === undefined ? reason : `${reason} (line ${line}, column ${column})`);
    this.reason = reason;
    this.line = line;
    this.column = column;
  }
}

/** What a template can refer to; see `buildVariables`. */
export type TemplateVariables = Record<string, unknown>;

/** The facts a template is rendered against. */
export interface VariableInput {
  contact: { id: string; email: string; data: Record<string, unknown> };
  context: Record<string, unknown>;
  unsubscribeUrl?: string;
  subscribeUrl?: string;
}

/**
 * Builds the rendering scope: the contact's data keys, then the context's keys (context wins),
 * then the reserved names, which neither data nor context can shadow: `id` and `email` (always the
 * contact), `data` (the contact's data), `event` (the context), `unsubscribeUrl` and `subscribeUrl`
 * (null when not given, so a context key cannot smuggle in its own link).
 */
export function buildVariables(input: VariableInput): TemplateVariables {
  const data = isPlainObject(input.contact.data) ? input.contact.data : {};
  const context = isPlainObject(input.context) ? input.context : {};
  return {
    ...data,
    ...context,
    id: input.contact.id,
    email: input.contact.email,
    data,
    event: context,
    unsubscribeUrl: input.unsubscribeUrl ?? null,
    subscribeUrl: input.subscribeUrl ?? null,
  };
}

// ---------------------------------------------------------------------------------------------
// The shared engine

type Mode = 'text' | 'html';

/** Render-time key carrying the output mode; a symbol, so templates cannot reach or forge it. */
const MODE = Symbol('trellis.render.mode');

const CACHE_LIMIT = 1000;

/** Turns an output value into its text, then HTML-escapes it in HTML mode. */
function finishOutput(this: unknown, value: unknown): string {
  const text = valueToText(value);
  const globals = (this as { context?: { globals?: Record<PropertyKey, unknown> } }).context?.globals;
  return globals?.[MODE] === 'html' ? escapeHtml(text) : text;
}

const engine = new Liquid({
  strictVariables: false,
  strictFilters: true,
  ownPropertyOnly: true,
  outputEscape: finishOutput,
  // No file system: partials and layouts are refused below, and nothing can be read from disk.
  templates: {},
  // Guards for the worker: a runaway loop or a gigantic template fails instead of hanging.
  parseLimit: 5_000_000,
  renderLimit: 2_000,
  memoryLimit: 50_000_000,
});

engine.registerFilter('fallback', (value: unknown, fallback: unknown) => (isEmptyForFallback(value) ? fallback : value));
// Kept so existing templates parse, but it no longer bypasses the finishing step.
engine.registerFilter('raw', (value: unknown) => value);
for (const name of ['include', 'render', 'layout']) {
  engine.registerTag(name, {
    parse(this: unknown, _token: TagToken, _remain: TopLevelToken[]) {
      throw new Error(`the "${name}" tag is not supported`);
    },
    render() {
      return '';
    },
  });
}

interface Compiled {
  templates: Template[];
  map: Segment[];
}

const cache = new Map<string, Compiled>();

/** Parses a template (via the cache); throws TemplateError with the original position. */
function compile(source: string): Compiled {
  const hit = cache.get(source);
  if (hit) {
    cache.delete(source);
    cache.set(source, hit);
    return hit;
  }
  let compiled: Compiled;
  let map: Segment[] = [];
  try {
    const rewritten = rewriteFallbacks(source);
    map = rewritten.map;
    compiled = { templates: engine.parse(rewritten.code), map };
  } catch (err) {
    throw toTemplateError(err, source, map);
  }
  cache.set(source, compiled);
  if (cache.size > CACHE_LIMIT) {
    const oldest = cache.keys().next().value as string;
    cache.delete(oldest);
  }
  return compiled;
}

function render(source: string, vars: TemplateVariables, mode: Mode): string {
  const { templates, map } = compile(source);
  try {
    return String(engine.renderSync(templates, vars, { globals: { [MODE]: mode } }));
  } catch (err) {
    throw toTemplateError(err, source, map);
  }
}

/** Renders a template as plain text (no escaping). */
export function renderText(source: string, vars: TemplateVariables): string {
  return render(source, vars, 'text');
}

/** Renders an HTML template: every output value is HTML-escaped, the template's own HTML is kept. */
export function renderHtml(source: string, vars: TemplateVariables): string {
  return render(source, vars, 'html');
}

/** Renders a single line (subjects, header values): line breaks become one space, ends trimmed. */
export function renderLine(source: string, vars: TemplateVariables): string {
  return toSingleLine(renderText(source, vars));
}

/** Renders every string inside a JSON value (objects, arrays) as plain text; keys and non-strings are kept. */
export function renderJson(value: unknown, vars: TemplateVariables): unknown {
  if (typeof value === 'string') return renderText(value, vars);
  if (Array.isArray(value)) return value.map((item) => renderJson(item, vars));
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = renderJson(item, vars);
    return out;
  }
  return value;
}

/**
 * True when no string in `value` (a string, or the strings inside JSON) holds Liquid markup (`{{`,
 * `{%`): rendered as text, each would come out unchanged.
 */
export function markupFree(value: unknown): boolean {
  if (typeof value === 'string') return !value.includes('{{') && !value.includes('{%');
  if (Array.isArray(value)) return value.every(markupFree);
  if (isPlainObject(value)) return Object.values(value).every(markupFree);
  return true;
}

/** `{{ name }}`, `{{ contact.data.plan }}`, `{{ items[0] }}`: one variable, no filter, no whitespace control. */
const PLAIN_OUTPUT = /\{\{\s*[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*|\[\d+\])*\s*\}\}/g;

/**
 * True when every string in `value` holds no markup but plain variable outputs (PLAIN_OUTPUT): no
 * tag, no filter. Such a template renders in time linear in its length and in the values it prints,
 * which are bounded; only loops and filters let a template's author spend CPU at will.
 */
export function plainOutputsOnly(value: unknown): boolean {
  if (typeof value === 'string') return markupFree(value.replace(PLAIN_OUTPUT, ''));
  if (Array.isArray(value)) return value.every(plainOutputsOnly);
  if (isPlainObject(value)) return Object.values(value).every(plainOutputsOnly);
  return true;
}

/** Parses a template without rendering it, for write-time validation. */
export function checkTemplate(source: string): { ok: true } | { ok: false; message: string; line?: number; column?: number } {
  try {
    compile(source);
    return { ok: true };
  } catch (err) {
    if (err instanceof TemplateError) {
      return err.line === undefined ? { ok: false, message: err.reason } : { ok: false, message: err.reason, line: err.line, column: err.column };
    }
    return { ok: false, message: err instanceof Error ? err.message : String(err) };
  }
}

// ---------------------------------------------------------------------------------------------
// Values

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** The `??` cases: missing, null, empty string and false (0 is a value). */
function isEmptyForFallback(value: unknown): boolean {
  return value === undefined || value === null || value === '' || value === false;
}

function valueToText(value: unknown): string {
  value = toValue(value);
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? '' : value.toISOString();
  if (typeof value === 'object') {
    try {
      return JSON.stringify(value) ?? '';
    } catch {
      return String(value);
    }
  }
  return String(value);
}

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escapes text for HTML content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] as string);
}

/** Every run of line breaks (with the blanks around it) becomes one space; the ends are trimmed. */
export function toSingleLine(text: string): string {
  return text.replace(/[ \t]*[\r\n\u0085\u2028\u2029]+[ \t]*/g, ' ').trim();
}

function toTemplateError(err: unknown, source: string, map: Segment[]): TemplateError {
  if (err instanceof TemplateError) return err;
  if (err instanceof RewriteError) {
    const { line, column } = positionOf(source, err.offset);
    return new TemplateError(err.message, line, column);
  }
  if (LiquidError.is(err)) {
    const reason = err.originalError?.message ?? err.message.replace(/, (file:.*?, )?line:\d+, col:\d+$/, '');
    if (err.token && typeof err.token.begin === 'number') {
      const { line, column } = positionOf(source, toOriginalOffset(map, err.token.begin));
      return new TemplateError(reason, line, column);
    }
    return new TemplateError(reason);
  }
  return new TemplateError(err instanceof Error ? err.message : String(err));
}
