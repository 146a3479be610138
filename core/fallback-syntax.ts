/**
 * The product's `{{ path ?? fallback }}` form: rewritten into Liquid (`{{ path | fallback: "..." }}`)
 * before Liquid parses a template, with a map back to the original text so that errors point at
 * the author's line and column. Pure string work; render.ts owns the Liquid side.
 */

/** A stretch of the rewritten template: copied from the original, or generated (anchored at `orig`). */
export interface Segment {
  gen: number;
  orig: number;
  len: number;
  copied: boolean;
}

export function toOriginalOffset(map: Segment[], offset: number): number {
  let found: Segment | undefined;
  for (const seg of map) {
    if (seg.gen > offset) break;
    found = seg;
  }
  if (!found) return offset;
  if (!found.copied) return found.orig;
  return found.orig + Math.min(offset - found.gen, found.len);
}

export function positionOf(source: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < source.length; i++) {
    if (source[i] === '\n') {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

export class RewriteError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

// ---------------------------------------------------------------------------------------------
// The `??` form

/**
 * Rewrites `{{ expr ?? fallback }}` into `{{ expr | fallback: "..." }}`, leaving everything else
 * byte for byte, and records where each piece of the result came from. Outputs are delimited as
 * Liquid does (quote-aware up to `}}`); tags, `{% raw %}` and `{% comment %}` blocks are skipped.
 */
export function rewriteFallbacks(source: string): { code: string; map: Segment[] } {
  if (!source.includes('??')) return { code: source, map: [{ gen: 0, orig: 0, len: source.length, copied: true }] };

  const map: Segment[] = [];
  let code = '';
  const copy = (from: number, to: number): void => {
    if (to <= from) return;
    const last = map[map.length - 1];
    if (last?.copied && last.orig + last.len === from && last.gen + last.len === code.length) {
      last.len += to - from;
    } else {
      map.push({ gen: code.length, orig: from, len: to - from, copied: true });
    }
    code += source.slice(from, to);
  };
  const emit = (text: string, anchor: number): void => {
    if (!text) return;
    map.push({ gen: code.length, orig: anchor, len: text.length, copied: false });
    code += text;
  };

  let i = 0;
  let textStart = 0;
  while (i < source.length) {
    if (source.startsWith('{%', i)) {
      const close = source.indexOf('%}', i + 2);
      if (close === -1) break; // unclosed: Liquid reports it
      const name = /^-?\s*(\w+)/.exec(source.slice(i + 2, close))?.[1];
      i = close + 2;
      if (name === 'raw' || name === 'comment') {
        const end = new RegExp(`\\{%-?\\s*end${name}\\b`, 'g');
        end.lastIndex = i;
        const found = end.exec(source);
        if (!found) break;
        const endClose = source.indexOf('%}', found.index);
        if (endClose === -1) break;
        i = endClose + 2;
      }
      continue;
    }
    if (source.startsWith('{{', i)) {
      const output = readOutput(source, i);
      if (!output) break; // unclosed: Liquid reports it
      if (output.rewrite) {
        copy(textStart, i);
        const { trimLeft, trimRight, exprStart, exprEnd, fallback, fallbackAt } = output.rewrite;
        emit(trimLeft ? '{{- ' : '{{ ', i);
        copy(exprStart, exprEnd);
        emit(` | fallback: ${liquidString(fallback)} ${trimRight ? '-' : ''}}}`, fallbackAt);
        textStart = output.end;
      }
      i = output.end;
      continue;
    }
    i++;
  }
  copy(textStart, source.length);
  return { code, map };
}

interface OutputScan {
  end: number;
  rewrite?: {
    trimLeft: boolean;
    trimRight: boolean;
    exprStart: number;
    exprEnd: number;
    fallback: string;
    fallbackAt: number;
  };
}

/** Reads the output starting at `start` (on `{{`); undefined when it is not closed. */
function readOutput(source: string, start: number): OutputScan | undefined {
  let i = start + 2;
  const trimLeft = source[i] === '-';
  if (trimLeft) i++;
  const contentStart = i;
  while (i < source.length) {
    const c = source[i];
    if (c === '"' || c === "'") {
      i = skipQuoted(source, i);
      continue;
    }
    if (source.startsWith('}}', i)) return { end: i + 2 };
    if (source.startsWith('??', i)) return readFallback(source, start, trimLeft, contentStart, i);
    i++;
  }
  return undefined;
}

/** Index just past the quoted string starting at `at` (or the end of the source). */
function skipQuoted(source: string, at: number): number {
  const quote = source[at];
  let i = at + 1;
  while (i < source.length) {
    if (source[i] === '\\') {
      i += 2;
      continue;
    }
    if (source[i] === quote) return i + 1;
    i++;
  }
  return source.length;
}

function readFallback(source: string, start: number, trimLeft: boolean, contentStart: number, at: number): OutputScan {
  const expr = source.slice(contentStart, at);
  if (!expr.trim()) throw new RewriteError('"??" needs a value before it', at);
  const exprStart = contentStart + (expr.length - expr.trimStart().length);
  const exprEnd = contentStart + expr.trimEnd().length;

  let i = at + 2;
  while (i < source.length && /\s/.test(source[i] as string)) i++;
  const quote = source[i];
  let fallback: string;
  let trimRight: boolean;
  let end: number;
  if (quote === '"' || quote === "'") {
    const after = skipQuoted(source, i);
    if (source[after - 1] !== quote || after - 1 === i) throw new RewriteError('unterminated fallback text after "??"', i);
    fallback = source.slice(i + 1, after - 1).replace(/\\([\\"'])/g, (m, c: string) => (c === quote || c === '\\' ? c : m));
    const rest = /^\s*(-?)\}\}/.exec(source.slice(after));
    if (!rest) {
      const junk = after + (/^\s*/.exec(source.slice(after))?.[0].length ?? 0);
      throw new RewriteError('only literal text may follow "??"; put filters before it', junk);
    }
    trimRight = rest[1] === '-';
    end = after + rest[0].length;
  } else {
    const close = source.indexOf('}}', i);
    if (close === -1) throw new RewriteError(`output ${JSON.stringify(source.slice(start, start + 20))} not closed`, start);
    let text = source.slice(i, close);
    trimRight = text.endsWith('-');
    if (trimRight) text = text.slice(0, -1);
    fallback = text.trimEnd();
    end = close + 2;
  }
  return { end, rewrite: { trimLeft, trimRight, exprStart, exprEnd, fallback, fallbackAt: at } };
}

/** A Liquid string literal that reads back as exactly `text`. */
function liquidString(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}
