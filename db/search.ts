/** Text search helpers for queries. */

/** An ILIKE pattern matching `s` anywhere, its own `%`, `_` and `\` taken literally. */
export function likePattern(s: string): string {
  return `%${s.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}
