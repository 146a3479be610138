/**
 * The workflow bundle preloads its modules (temporal/bundle-options.ts): every run a workflow thread
 * holds shares one instance of each module. A module-level variable would then be shared by runs —
 * one run's value seen by another, and a replay no longer deterministic. What the compiler can check
 * of that is held here: at the top level of every module the workflow code imports, only imports,
 * exports, types, functions, classes and `const` declarations; a module-level Map or Set is typed
 * ReadonlyMap or ReadonlySet, and none is a WeakMap or WeakSet.
 */
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { workflowBundleOptions } from '../../temporal/bundle-options';
import { resolveModule, valueImports } from '../support/imports';

const ROOT = join(__dirname, '..', '..');

/** Every source file the workflow module reaches through run-time imports, itself included, with its text. */
function workflowModules(entry: string): Map<string, string> {
  const sources = new Map<string, string>();
  const visit = (path: string) => {
    const name = relative(ROOT, path);
    if (sources.has(name)) return;
    const source = readFileSync(path, 'utf8');
    sources.set(name, source);
    for (const spec of valueImports(source).filter((s) => s.startsWith('.'))) visit(resolveModule(path, spec));
  };
  visit(entry);
  return sources;
}

/** A module-level Map or Set is shared state unless typed read-only; a WeakMap or WeakSet always is. */
const READONLY: Readonly<Record<string, string | undefined>> = { Map: 'ReadonlyMap', Set: 'ReadonlySet', WeakMap: undefined, WeakSet: undefined };

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
      const kind = init.expression.text;
      if (!(kind in READONLY)) continue;
      const readonly = READONLY[kind];
      if (readonly === undefined) out.push(`${where(declaration)} holds a module-level ${kind}`);
      else if (!(declaration.type?.getText(file) ?? '').startsWith(`${readonly}<`))
        out.push(`${where(declaration)} holds a module-level ${kind}: make it ${readonly}`);
    }
  }
  return out;
}

describe('the workflow bundle’s modules, shared by every run of a workflow thread', () => {
  const modules = workflowModules(join(ROOT, 'temporal', 'workflows.ts'));

  it('follows the workflow module’s imports through the interpreter and core', () => {
    expect([...modules.keys()]).toEqual(
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
    expect([...modules].flatMap(([name, source]) => moduleState(name, source))).toEqual([]);
  });

  it('tells state from constants', () => {
    const source = [
      "import { x } from './x';",
      'export const LIMIT = 3;',
      'const SEEN: ReadonlySet<string> = new Set(["a"]);',
      'const byId = new Map<string, number>();',
      'const seen = new WeakSet<object>();',
      'let count = 0;',
      'export function f() { return count; }',
      'register(f);',
    ].join('\n');
    expect(moduleState('m.ts', source)).toEqual([
      'm.ts:4 holds a module-level Map: make it ReadonlyMap',
      'm.ts:5 holds a module-level WeakSet',
      'm.ts:6 declares a module-level variable (let/var)',
      "m.ts:8 runs a statement at the module's top level",
    ]);
  });
});

describe('the workflow bundle’s stack traces', () => {
  it('are off unless WORKFLOW_STACK_TRACES=true when the code is bundled: stack-traces.ts is preloaded ahead of the workflow code', () => {
    expect(workflowBundleOptions('/w.ts', { stackTraces: false }).preloadModules).toEqual([join(ROOT, 'temporal', 'stack-traces.ts'), '/w.ts']);
    expect(workflowBundleOptions('/w.ts', { stackTraces: true }).preloadModules).toEqual(['/w.ts']);
  });

  it('reads WORKFLOW_STACK_TRACES as every yes-or-no setting is read, and refuses any other value by name', () => {
    const before = process.env.WORKFLOW_STACK_TRACES;
    const preloads = (value: string | undefined) => {
      if (value === undefined) delete process.env.WORKFLOW_STACK_TRACES;
      else process.env.WORKFLOW_STACK_TRACES = value;
      return workflowBundleOptions('/w.ts').preloadModules;
    };
    try {
      const off = [join(ROOT, 'temporal', 'stack-traces.ts'), '/w.ts'];
      expect(preloads(undefined)).toEqual(off);
      expect(preloads('false')).toEqual(off);
      expect(preloads('0')).toEqual(off);
      expect(preloads('true')).toEqual(['/w.ts']);
      expect(preloads('1')).toEqual(['/w.ts']);
      expect(() => preloads('yes')).toThrow('WORKFLOW_STACK_TRACES must be true, false, 1 or 0, not "yes"');
    } finally {
      if (before === undefined) delete process.env.WORKFLOW_STACK_TRACES;
      else process.env.WORKFLOW_STACK_TRACES = before;
    }
  });
});
