/** Zod schemas of the filter language (SPEC §7.5), for CONDITION step configs and segments. */
import { z } from 'zod';
import {
  FILTER_LOGICS,
  FILTER_UNITS,
  OPERATORS,
  ORDERING_OPERATORS,
  TAG_OPERATORS,
  TIME_OPERATORS,
  VALUELESS_OPERATORS,
  isFilterField,
  parseIsoDate,
  toNumber,
  type Comparison,
  type Filter,
  type FilterTree,
} from './filter';
import { tag } from './tags';

const FIELD_MESSAGE = 'field must be contact.email, contact.subscribed, contact.createdAt, contact.tags, data.<path>, contact.data.<path> or event.<path>';

const includes = (list: readonly string[], item: string): boolean => list.includes(item);

/** One comparison `{field, operator, value?, unit?}`. */
export const comparisonSchema: z.ZodType<Comparison> = z
  .strictObject({
    field: z.string().refine(isFilterField, FIELD_MESSAGE),
    operator: z.enum(OPERATORS),
    value: z.json().optional(),
    unit: z.enum(FILTER_UNITS).optional(),
  })
  .superRefine((comparison, ctx) => {
    const { field, operator, value, unit } = comparison;
    if (field === 'contact.tags') {
      if (!includes(TAG_OPERATORS, operator)) {
        ctx.addIssue({ code: 'custom', path: ['operator'], message: `contact.tags takes operator ${TAG_OPERATORS.join(', ')}` });
      } else if (!includes(VALUELESS_OPERATORS, operator) && !tag.safeParse(value).success) {
        ctx.addIssue({ code: 'custom', path: ['value'], message: `value must be a tag with operator ${operator}` });
      }
      return;
    }
    const timed = includes(TIME_OPERATORS, operator);
    if (value === undefined && !includes(VALUELESS_OPERATORS, operator)) {
      ctx.addIssue({ code: 'custom', path: ['value'], message: `value is required with operator ${operator}` });
    } else if (timed && !(typeof value === 'number' && Number.isFinite(value) && value > 0)) {
      ctx.addIssue({ code: 'custom', path: ['value'], message: `value must be a positive number with operator ${operator}` });
    } else if (includes(ORDERING_OPERATORS, operator) && !isOrderable(value)) {
      ctx.addIssue({
        code: 'custom',
        path: ['value'],
        message: `value must be a number, a numeric string or an ISO-8601 date with operator ${operator}`,
      });
    }
    if (timed && unit === undefined) {
      ctx.addIssue({ code: 'custom', path: ['unit'], message: `unit (minutes, hours or days) is required with operator ${operator}` });
    }
    if (!timed && unit !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['unit'], message: 'unit is only allowed with operators within and olderThan' });
    }
  });

/** A tree `{logic, groups: [{filters, conditions?}]}`; `conditions` nests another tree. */
export const filterTreeSchema: z.ZodType<FilterTree> = z.strictObject({
  logic: z.enum(FILTER_LOGICS),
  groups: z.array(
    z.strictObject({
      filters: z.array(comparisonSchema),
      get conditions() {
        return filterTreeSchema.optional();
      },
    }),
  ),
});

/**
 * A filter: a comparison or a tree. Told apart up front by the `logic` / `groups` keys rather than
 * with a plain union, so that an error names the bad field (a union reports only "invalid input").
 */
export const filterSchema: z.ZodType<Filter> = z.unknown().superRefine((input, ctx) => {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    ctx.addIssue({ code: 'custom', message: 'a filter must be a comparison {field, operator, value} or a tree {logic, groups}', continue: false });
    return;
  }
  const schema = 'logic' in input || 'groups' in input ? filterTreeSchema : comparisonSchema;
  const result = schema.safeParse(input);
  // Aborting: a check layered on a filter (an exit goal's refusal of event.* fields) sees only valid ones.
  if (!result.success) for (const issue of result.error.issues) ctx.addIssue({ ...issue, continue: false });
}) as unknown as z.ZodType<Filter>;

function isOrderable(value: unknown): boolean {
  return toNumber(value) !== undefined || (typeof value === 'string' && parseIsoDate(value) !== undefined);
}
