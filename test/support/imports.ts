import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/**
 * Every module specifier a source file imports (or re-exports) at run time; `import type` is left
 * out, and `import()` too with `{ dynamic: false }` (what loads with the file, not later).
 */
export function valueImports(source: string, { dynamic = true }: { dynamic?: boolean } = {}): string[] {
  const found: string[] = [];
  for (const m of source.matchAll(/^\s*(import|export)\s+(type\s+)?([^'";]*?)\s*from\s*['"]([^'"]+)['"]/gms)) {
    if (!m[2]) found.push(m[4]!);
  }
  for (const m of source.matchAll(/^\s*import\s+['"]([^'"]+)['"]/gm)) found.push(m[1]!);
  if (dynamic) for (const m of source.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) found.push(m[1]!);
  return found;
}

/** The TypeScript source a relative specifier of `from` names (`./x`, `./x.js` or a folder's index). */
export function resolveModule(from: string, spec: string): string {
  const base = resolve(dirname(from), spec.replace(/\.js$/, ''));
  const candidate = [`${base}.ts`, join(base, 'index.ts')].find((p) => existsSync(p));
  if (!candidate) throw new Error(`cannot resolve ${spec} from ${from}`);
  return candidate;
}
