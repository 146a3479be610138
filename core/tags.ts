/** Contact tags (SPEC §14.1): the slug rule, the per-contact limit, and the events a change records. */
import { z } from 'zod';

export const MAX_TAGS = 100;

const TAG_SLUG = /^[a-z0-9][a-z0-9_:-]{0,63}$/;

/** One tag as written anywhere (routes, /v1/track, step configs): lower-cased, then a slug. */
export const tag = z.string().trim().toLowerCase().regex(TAG_SLUG, 'a tag is a slug: lower-case letters, digits, "_", ":" and "-", at most 64 characters');

/** A list of tags, de-duplicated after lower-casing. */
export const tagList = z
  .array(tag)
  .max(MAX_TAGS, `a contact has at most ${MAX_TAGS} tags`)
  .overwrite((tags) => [...new Set(tags)]);

/** The system event recorded when a contact gains or loses a tag. */
export function tagEventName(tagName: string, change: 'added' | 'removed'): string {
  return `tag.${tagName}.${change}`;
}

/** A contact's tags after a change: replaced by `set` when given, then `add` added and `remove` removed. */
export function nextTags(current: readonly string[], change: { set?: readonly string[]; add?: readonly string[]; remove?: readonly string[] }): string[] {
  const next = new Set(change.set ?? current);
  for (const t of change.add ?? []) next.add(t);
  for (const t of change.remove ?? []) next.delete(t);
  return [...next];
}

/** Tags gained and lost between two lists, each in the order of the list it comes from. */
export function tagDiff(before: readonly string[], after: readonly string[]): { added: string[]; removed: string[] } {
  const had = new Set(before);
  const has = new Set(after);
  return { added: after.filter((t) => !had.has(t)), removed: before.filter((t) => !has.has(t)) };
}

/** Thrown when a change would leave a contact with more than MAX_TAGS tags. */
export class TooManyTags extends Error {
  override readonly name = 'TooManyTags';
  constructor() {
    super(`a contact has at most ${MAX_TAGS} tags`);
  }
}
