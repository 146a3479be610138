import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveModule, valueImports } from '../support/imports';

const ROOT = join(__dirname, '..', '..');
const ROUTES = join(ROOT, 'api', 'routes');

/** What is wrong with the imports of one route file, if anything. */
function problems(file: string): string[] {
  const out: string[] = [];
  for (const spec of valueImports(readFileSync(join(ROUTES, file), 'utf8'))) {
    if (spec === 'drizzle-orm' || spec.startsWith('drizzle-orm/')) out.push(`${file} builds queries (imports ${spec}); move them into db/`);
    if (/(^|\/)db\/schema$/.test(spec)) out.push(`${file} reads the db schema tables (${spec}); move the query into db/`);
    if (spec.startsWith('./') || spec === '.' || /^\.\.\/routes(\/|$)/.test(spec))
      out.push(`${file} imports another route file (${spec}); share it from db/, core/ or api/`);
  }
  return out;
}

const routeFiles = readdirSync(ROUTES).filter((f) => f.endsWith('.ts'));

describe('the layers of the API', () => {
  it('finds the route files', () => {
    expect(routeFiles.length).toBeGreaterThan(5);
  });

  it('keeps SQL and the schema tables out of route files, and route files out of each other', () => {
    const found = routeFiles.flatMap((f) => problems(f));
    expect(found).toEqual([]);
  });

  it('tells a type-only import from one that runs', () => {
    expect(valueImports(`import type { SQL } from 'drizzle-orm';\nimport { eq } from 'drizzle-orm';\nimport { x } from './y';`)).toEqual([
      'drizzle-orm',
      './y',
    ]);
  });

  // api/serialize.ts still types the stored config as the answer's union for the response schema to check.
  it('casts no trigger config when reading one: it is read with a parse', () => {
    const offenders: string[] = [];
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        if (['node_modules', 'dist', 'test', 'web', '.git'].includes(entry.name)) continue;
        const path = join(dir, entry.name);
        if (entry.isDirectory()) walk(path);
        else if (entry.name.endsWith('.ts') && /triggerConfig\s+as\s/.test(readFileSync(path, 'utf8'))) offenders.push(relative(ROOT, path));
      }
    };
    walk(ROOT);
    expect(offenders.filter((f) => f !== join('api', 'serialize.ts'))).toEqual([]);
  });
});

/** The project's source files `entry` loads with it (its relative static value imports, followed), and the packages they load. */
function loadedWith(entry: string): { files: string[]; packages: string[] } {
  const seen = new Set<string>();
  const packages = new Set<string>();
  const visit = (path: string) => {
    if (seen.has(path)) return;
    seen.add(path);
    for (const spec of valueImports(readFileSync(path, 'utf8'), { dynamic: false })) {
      if (spec.startsWith('.')) visit(resolveModule(path, spec));
      else packages.add(spec);
    }
  };
  visit(join(ROOT, entry));
  return { files: [...seen].map((p) => relative(ROOT, p)), packages: [...packages] };
}

describe("each role's modules", () => {
  const apiOnly = (file: string) => file === join('api', 'app.ts') || file.startsWith(join('api', 'routes')) || file.startsWith(`inbound${'/'}`);
  const workerOnly = (file: string) =>
    file.startsWith(`activities${'/'}`) && file !== join('activities', 'renderer.ts') && file !== join('activities', 'render-task.ts');

  it('loads neither the API routes, inbound mail nor the activities before the role asks (app/trellis.ts)', () => {
    const loaded = loadedWith('app/trellis.ts').files;
    expect(loaded).toContain(join('temporal', 'dispatcher.ts'));
    expect(loaded.filter((f) => apiOnly(f) || workerOnly(f) || f === join('temporal', 'worker.ts'))).toEqual([]);
  });

  it("loads the Temporal SDK's worker package (its native runtime) only in the roles that run a worker", () => {
    const { packages } = loadedWith('app/trellis.ts');
    expect(packages).toContain('@temporalio/client');
    expect(packages.filter((p) => p.startsWith('@temporalio/worker'))).toEqual([]);
  });

  it("serves METRICS_PORT without the API's other routes (api/operator-app.ts)", () => {
    const loaded = loadedWith('api/operator-app.ts').files;
    expect(loaded).toContain(join('api', 'operator-routes.ts'));
    expect(loaded.filter(apiOnly)).toEqual([]);
  });

  it('follows static imports only, and a `.js` specifier to its source', () => {
    expect(valueImports(`import { a } from './a';\nconst { b } = await import('./b.js');`, { dynamic: false })).toEqual(['./a']);
    expect(relative(ROOT, resolveModule(join(ROOT, 'app', 'trellis.ts'), '../api/app.js'))).toBe(join('api', 'app.ts'));
  });
});
