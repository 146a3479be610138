/**
 * The workflow bundle preloads its modules (temporal/bundle-options.ts): every run a workflow thread
 * holds shares one instance of each module. A module-level variable would then be shared by runs —
 * one run's value seen by another, and a replay no longer deterministic. What the compiler can check
 * of that is held here: at the top level of every module the workflow code imports, only imports,
 * exports, types, functions, classes and `const` declarations; a module-level Map or Set is typed
 * ReadonlyMap or ReadonlySet.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = join(__dirname, '..', '..');

/** The relative modules a file imports at run time (`import type` is erased by the bundler). */
function relativeValueImports(file: ts.SourceFile): string[] {
  const found: string[] = [];
  for (const statement of file.statements) {
    const isImport = ts.isImportDeclaration(statement) && !statement.importClause?.isTypeOnly;
    const isReExport = ts.isExportDeclaration(statement) && !statement.isTypeOnly && statement.moduleSpecifier !== undefined;
    const spec = isImport || isReExport ? (statement as ts.ImportDeclaration | ts.ExportDeclaration).moduleSpecifier : undefined;
    if (spec && ts.isStringLiteral(spec) && spec.text.startsWith('.')) found.push(spec.text);
  }
  return found;
}

function resolveModule(from: string, spec: string): string {
  const base = resolve(dirname(from), spec);
  const candidate = [`${base}.ts`, join(base, 'index.ts')].find((p) => existsSync(p));
  if (!candidate) throw new Error(`cannot resolve ${spec} from ${from}`);
  return candidate;
}

/** Every source file the workflow module reaches through run-time imports, itself included. */
function workflowModules(entry: string): string[] {
  const seen = new Set<string>();
  const visit = (path: string) => {
    if (seen.has(path)) return;
    seen.add(path);
    const file = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.ES2022, true);
    for (const spec of relativeValueImports(file)) visit(resolveModule(path, spec));
  };
  visit(entry);
  return [...seen].map((p) => relative(ROOT, p)).sort();
}

const COLLECTIONS = new Map([
  ['Map', 'ReadonlyMap'],
  ['Set', 'ReadonlySet'],
  ['WeakMap', 'a function-local WeakMap'],
  ['WeakSet', 'a function-local WeakSet'],
]);

/** What a module's top level holds that runs sharing the module would share as state. */
function moduleState(name: string, source: string): string[] {
  const file = ts.createSourceFile(name, source, ts.ScriptTarget.ES2022, true);
  const out: string[] = [];
  const where = (node: ts.Node) => `${name}:${file.getLineAndCharacterOfPosition(node.getStart()).line + 1}`;
  for (const statement of file.statements) {
    if (
      ts.isImportDeclaration(statement) ||
      ts.isExportDeclaration(statement) ||
      ts.isTypeAliasDeclaration(statement) ||
      ts.isInterfaceDeclaration(statement) ||
      ts.isFunctionDeclaration(statement) ||
      ts.isClassDeclaration(statement)
    )
      continue;
    if (!ts.isVariableStatement(statement)) {
      out.push(`${where(statement)} runs a statement at the module's top level`);
      continue;
    }
    if (!(statement.declarationList.flags & ts.NodeFlags.Const)) {
      out.push(`${where(statement)} declares a module-level variable (let/var)`);
      continue;
    }
    for (const declaration of statement.declarationList.declarations) {
      const init = declaration.initializer;
      if (!init || !ts.isNewExpression(init) || !ts.isIdentifier(init.expression)) continue;
      const readonly = COLLECTIONS.get(init.expression.text);
      if (readonly === undefined) continue;
      const typed = declaration.type?.getText(file) ?? '';
      if (!typed.startsWith(`${readonly}<`)) out.push(`${where(declaration)} holds a module-level ${init.expression.text}: make it ${readonly}`);
    }
  }
  return out;
}

describe('the workflow bundle’s modules, shared by every run of a workflow thread', () => {
  const modules = workflowModules(join(ROOT, 'temporal', 'workflows.ts'));

  it('follows the workflow module’s imports through the interpreter and core', () => {
    expect(modules).toEqual(
      expect.arrayContaining([
        'core/graph.ts',
        'temporal/enrolment/workflow.ts',
        'temporal/interpreter/run.ts',
        'temporal/interpreter/state.ts',
        'temporal/interpreter/steps/wait-for-event.ts',
        'temporal/segment-workflows.ts',
        'temporal/workflows.ts',
      ]),
    );
  });

  it('keeps no state at their top level', () => {
    expect(modules.flatMap((m) => moduleState(m, readFileSync(join(ROOT, m), 'utf8')))).toEqual([]);
  });

  it('tells state from constants', () => {
    const source = [
      "import { x } from './x';",
      'export const LIMIT = 3;',
      'const SEEN: ReadonlySet<string> = new Set(["a"]);',
      'const byId = new Map<string, number>();',
      'let count = 0;',
      'export function f() { return count; }',
      'register(f);',
    ].join('\n');
    expect(moduleState('m.ts', source)).toEqual([
      'm.ts:4 holds a module-level Map: make it ReadonlyMap',
      'm.ts:5 declares a module-level variable (let/var)',
      "m.ts:7 runs a statement at the module's top level",
    ]);
  });
});
