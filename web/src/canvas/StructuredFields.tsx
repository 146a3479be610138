/**
 * Structured forms for the two configs that are lists: a CONDITION's filter (SPEC §7.5) as groups of
 * field / operator / value rows, and a SPLIT's branches as name / weight rows. Each edits the config
 * as the JSON text the step form keeps, so saving, and the API's errors at each row's fields, work as
 * for every other field.
 */
import type { ReactNode } from 'react';
import type { FieldError } from '../api';
import { errorsAt, FieldMessage, fieldId } from '../pages/FieldMessage';

const OPERATORS = [
  ['equals', 'equals'],
  ['notEquals', 'does not equal'],
  ['contains', 'contains'],
  ['notContains', 'does not contain'],
  ['greaterThan', 'is greater than'],
  ['lessThan', 'is less than'],
  ['greaterThanOrEqual', 'is at least'],
  ['lessThanOrEqual', 'is at most'],
  ['exists', 'exists'],
  ['notExists', 'does not exist'],
  ['within', 'is within the last'],
  ['olderThan', 'is older than'],
] as const;
const VALUELESS = new Set(['exists', 'notExists']);
const TIMED = new Set(['within', 'olderThan']);
const UNITS = ['minutes', 'hours', 'days'];

interface Row {
  field: string;
  operator: string;
  value?: unknown;
  unit?: string;
}
interface Group {
  filters: Row[];
  conditions?: unknown;
}
interface Tree {
  logic: 'AND' | 'OR';
  groups: Group[];
}

/** A filter as a tree, whichever form it was saved in (a lone comparison is one group of one row). */
function treeOf(text: string): Tree | null {
  let filter: unknown;
  try {
    filter = text.trim() ? JSON.parse(text) : { field: '', operator: 'equals' };
  } catch {
    return null;
  }
  if (typeof filter !== 'object' || filter === null || Array.isArray(filter)) return null;
  const f = filter as Record<string, unknown>;
  if (Array.isArray(f.groups)) {
    const groups = f.groups as Group[];
    // A nested tree has no rows here: it stays editable as JSON.
    if (groups.some((g) => g.conditions !== undefined || !Array.isArray(g.filters))) return null;
    return { logic: f.logic === 'OR' ? 'OR' : 'AND', groups };
  }
  return { logic: 'AND', groups: [{ filters: [f as unknown as Row] }] };
}

/** The config a tree saves as: a lone comparison stays one, anything more is a tree. */
function filterOf(tree: Tree): unknown {
  if (tree.groups.length === 1 && tree.groups[0]!.filters.length === 1) return tree.groups[0]!.filters[0];
  return tree;
}

/** Where the API reports a row's errors, for the form the filter is saved in. */
function rowPath(tree: Tree, g: number, r: number): string {
  return tree.groups.length === 1 && tree.groups[0]!.filters.length === 1 ? 'config' : `config.groups.${g}.filters.${r}`;
}

/** A value as typed: numbers and booleans written as such become them, anything else is text. */
function typedValue(text: string): unknown {
  if (text === '') return undefined;
  try {
    const parsed = JSON.parse(text);
    if ((typeof parsed === 'number' || typeof parsed === 'boolean') && JSON.stringify(parsed) === text) return parsed;
  } catch {
    /* text */
  }
  return text;
}

function textOf(value: unknown): string {
  if (value === undefined || value === null) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function Invalid({
  errors,
  path,
  children,
}: {
  errors: FieldError[];
  path: string;
  children: (props: { id: string; 'aria-invalid': boolean; 'aria-describedby'?: string }) => ReactNode;
}) {
  const id = fieldId(path);
  const invalid = errorsAt(errors, path).length > 0;
  return <>{children({ id, 'aria-invalid': invalid, 'aria-describedby': invalid ? `${id}-error` : undefined })}</>;
}

/** Errors about the whole list rather than one row. */
function WholeErrors({ errors }: { errors: FieldError[] }) {
  if (!errors.length) return null;
  return (
    <p className="field-error" role="alert">
      {errors.map((e) => e.message).join('; ')}
    </p>
  );
}

export function FilterEditor({ value, onChange, errors }: { value: string; onChange: (text: string) => void; errors: FieldError[] }) {
  const tree = treeOf(value);
  if (!tree) {
    const id = fieldId('config');
    return (
      <div className="field">
        <label htmlFor={id}>Filter (JSON)</label>
        <textarea
          id={id}
          rows={8}
          spellCheck={false}
          value={value}
          onChange={(e) => onChange(e.target.value)}
          aria-invalid={errorsAt(errors, 'config').length > 0}
        />
        <p className="help">This filter nests groups, so it is edited as JSON.</p>
        <FieldMessage errors={errors} path="config" />
      </div>
    );
  }
  const save = (next: Tree) => onChange(JSON.stringify(filterOf(next), null, 2));
  const setRow = (g: number, r: number, row: Row) =>
    save({ ...tree, groups: tree.groups.map((group, i) => (i === g ? { ...group, filters: group.filters.map((old, j) => (j === r ? row : old)) } : group)) });
  const removeRow = (g: number, r: number) =>
    save({
      ...tree,
      groups: tree.groups
        .map((group, i) => (i === g ? { ...group, filters: group.filters.filter((_, j) => j !== r) } : group))
        .filter((group) => group.filters.length > 0),
    });
  const blank: Row = { field: '', operator: 'equals' };
  const whole = errors.filter((e) => e.path === 'config' || e.path === 'config.logic' || e.path === 'config.groups');
  return (
    <fieldset className="filter-editor">
      <legend>Filter</legend>
      {tree.groups.length > 1 && (
        <div className="field">
          <label htmlFor={fieldId('config.logic')}>Groups must</label>
          <select id={fieldId('config.logic')} value={tree.logic} onChange={(e) => save({ ...tree, logic: e.target.value as Tree['logic'] })}>
            <option value="AND">all match</option>
            <option value="OR">any match</option>
          </select>
        </div>
      )}
      {tree.groups.map((group, g) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: groups have no identity but their place
        <fieldset className="filter-group" key={g} data-testid="filter-group">
          <legend>{tree.groups.length > 1 ? `Group ${g + 1}: all of` : 'All of'}</legend>
          {group.filters.map((row, r) => {
            const path = rowPath(tree, g, r);
            const n = `group ${g + 1} row ${r + 1}`;
            return (
              // biome-ignore lint/suspicious/noArrayIndexKey: rows have no identity but their place
              <div className="filter-row" key={r} data-testid="filter-row">
                <Invalid errors={errors} path={`${path}.field`}>
                  {(p) => (
                    <input
                      {...p}
                      aria-label={`Field, ${n}`}
                      placeholder="data.plan"
                      value={row.field}
                      onChange={(e) => setRow(g, r, { ...row, field: e.target.value })}
                    />
                  )}
                </Invalid>
                <Invalid errors={errors} path={`${path}.operator`}>
                  {(p) => (
                    <select
                      {...p}
                      aria-label={`Operator, ${n}`}
                      value={row.operator}
                      onChange={(e) => {
                        const operator = e.target.value;
                        const next: Row = { field: row.field, operator };
                        if (!VALUELESS.has(operator)) next.value = row.value;
                        if (TIMED.has(operator)) next.unit = row.unit ?? 'days';
                        setRow(g, r, next);
                      }}
                    >
                      {OPERATORS.map(([op, text]) => (
                        <option key={op} value={op}>
                          {text}
                        </option>
                      ))}
                    </select>
                  )}
                </Invalid>
                {!VALUELESS.has(row.operator) && (
                  <Invalid errors={errors} path={`${path}.value`}>
                    {(p) => (
                      <input
                        {...p}
                        aria-label={`Value, ${n}`}
                        placeholder="value"
                        value={textOf(row.value)}
                        onChange={(e) => {
                          const { value: _, ...rest } = row;
                          const v = typedValue(e.target.value);
                          setRow(g, r, v === undefined ? rest : { ...rest, value: v });
                        }}
                      />
                    )}
                  </Invalid>
                )}
                {TIMED.has(row.operator) && (
                  <Invalid errors={errors} path={`${path}.unit`}>
                    {(p) => (
                      <select {...p} aria-label={`Unit, ${n}`} value={row.unit ?? 'days'} onChange={(e) => setRow(g, r, { ...row, unit: e.target.value })}>
                        {UNITS.map((u) => (
                          <option key={u} value={u}>
                            {u}
                          </option>
                        ))}
                      </select>
                    )}
                  </Invalid>
                )}
                <button
                  type="button"
                  className="quiet"
                  aria-label={`Remove ${n}`}
                  onClick={() => removeRow(g, r)}
                  disabled={tree.groups.length === 1 && group.filters.length === 1}
                >
                  ×
                </button>
                <FieldMessage errors={errors} path={`${path}.field`} />
                <FieldMessage errors={errors} path={`${path}.operator`} />
                <FieldMessage errors={errors} path={`${path}.value`} />
                <FieldMessage errors={errors} path={`${path}.unit`} />
              </div>
            );
          })}
          <button
            type="button"
            className="quiet"
            onClick={() => save({ ...tree, groups: tree.groups.map((old, i) => (i === g ? { ...old, filters: [...old.filters, blank] } : old)) })}
          >
            Add a condition{tree.groups.length > 1 ? ` to group ${g + 1}` : ''}
          </button>
        </fieldset>
      ))}
      <button type="button" className="quiet" onClick={() => save({ ...tree, groups: [...tree.groups, { filters: [blank] }] })}>
        Add a group
      </button>
      <WholeErrors errors={whole} />
    </fieldset>
  );
}

interface Branch {
  name: string;
  weight: unknown;
}

export function BranchesEditor({ value, onChange, errors }: { value: string; onChange: (text: string) => void; errors: FieldError[] }) {
  let branches: Branch[] = [];
  try {
    const parsed = JSON.parse(value || '[]');
    if (Array.isArray(parsed)) branches = parsed as Branch[];
  } catch {
    /* starts empty */
  }
  const save = (next: Branch[]) => onChange(JSON.stringify(next, null, 2));
  const set = (i: number, b: Branch) => save(branches.map((old, j) => (j === i ? b : old)));
  const whole = errors.filter((e) => e.path === 'config' || e.path === 'config.branches');
  return (
    <fieldset className="branches-editor">
      <legend>Branches</legend>
      <p className="help">Each run takes one branch at random, in proportion to the weights.</p>
      {branches.map((b, i) => {
        const path = `config.branches.${i}`;
        return (
          // biome-ignore lint/suspicious/noArrayIndexKey: branches are edited in place
          <div className="filter-row" key={i} data-testid="branch-row">
            <Invalid errors={errors} path={`${path}.name`}>
              {(p) => <input {...p} aria-label={`Name of branch ${i + 1}`} value={b.name} onChange={(e) => set(i, { ...b, name: e.target.value })} />}
            </Invalid>
            <Invalid errors={errors} path={`${path}.weight`}>
              {(p) => (
                <input
                  {...p}
                  aria-label={`Weight of branch ${i + 1}`}
                  inputMode="numeric"
                  value={textOf(b.weight)}
                  onChange={(e) => set(i, { ...b, weight: /^\d+$/.test(e.target.value) ? Number(e.target.value) : e.target.value })}
                />
              )}
            </Invalid>
            <button type="button" className="quiet" aria-label={`Remove branch ${i + 1}`} onClick={() => save(branches.filter((_, j) => j !== i))}>
              ×
            </button>
            <FieldMessage errors={errors} path={`${path}.name`} />
            <FieldMessage errors={errors} path={`${path}.weight`} />
          </div>
        );
      })}
      <button type="button" className="quiet" onClick={() => save([...branches, { name: '', weight: 1 }])}>
        Add a branch
      </button>
      <WholeErrors errors={whole} />
    </fieldset>
  );
}
