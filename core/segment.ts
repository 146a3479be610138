/** Pure rules of segments (SPEC §5.7): slugs, the events membership changes record, what a filter needs. */
import { TIME_OPERATORS, isFilterTree, type Comparison, type Filter } from './filter';

/** A segment slug: it names the segment's events (`segment.<slug>.entry`), so it is kept simple. */
export const SEGMENT_SLUG = /^[a-z0-9][a-z0-9_-]{0,63}$/;

/** The slug a segment gets from its name when none is given (`"VIP buyers!"` → `vip-buyers`). */
export function slugFromName(name: string): string {
  const slug = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+/, '')
    .slice(0, 64)
    .replace(/-+$/, '');
  return slug === '' ? 'segment' : slug;
}

/** The events recorded when a contact starts or stops matching a segment that tracks membership. */
export function membershipEventName(slug: string, change: 'entry' | 'exit'): string {
  return `segment.${slug}.${change}`;
}

/** One comparison of a filter with its path inside the filter (`groups.0.filters.1`). */
export function comparisonsOf(filter: Filter): { path: (string | number)[]; comparison: Comparison }[] {
  if (!isFilterTree(filter)) return [{ path: [], comparison: filter }];
  const found: { path: (string | number)[]; comparison: Comparison }[] = [];
  filter.groups.forEach((group, g) => {
    group.filters.forEach((comparison, f) => {
      found.push({ path: ['groups', g, 'filters', f], comparison });
    });
    if (group.conditions) {
      for (const inner of comparisonsOf(group.conditions)) found.push({ path: ['groups', g, 'conditions', ...inner.path], comparison: inner.comparison });
    }
  });
  return found;
}

/** The paths (to their `field`) of the comparisons that read the execution context, which a segment cannot. */
export function eventFieldPaths(filter: Filter): (string | number)[][] {
  return comparisonsOf(filter)
    .filter(({ comparison }) => comparison.field.startsWith('event.'))
    .map(({ path }) => [...path, 'field']);
}

/** True when the filter places a date relative to now, so membership changes with time alone. */
export function isTimeRelative(filter: Filter): boolean {
  return comparisonsOf(filter).some(({ comparison }) => (TIME_OPERATORS as readonly string[]).includes(comparison.operator));
}

/** The input of the background computation of one generation of a segment's membership. */
export interface SegmentComputationInput {
  segmentId: string;
  projectId: string;
  generation: number;
  /** The last contact id done (keyset cursor), carried over continue-as-new. */
  after?: string | null;
  /** Contacts per page and pages per run before continue-as-new (defaults 500 and 100). */
  pageSize?: number;
  pagesPerRun?: number;
}

/** Where the periodic refresh of time-relative segments goes on: a segment and the last contact done, or past a segment. */
export type RefreshCursor = { segmentId: string; afterContact: string | null } | { afterSegment: string } | null;

export const SEGMENT_COMPUTATION_WORKFLOW = 'segmentComputation';
export const SEGMENT_REFRESH_WORKFLOW = 'segmentRefresh';

/** The Temporal workflow id of one generation's computation: a start queued twice runs once. */
export function segmentComputationWorkflowId(segmentId: string, generation: number): string {
  return `trellis-segment-${segmentId}-g${generation}`;
}

/** The id of the one refresh Schedule of an installation (its task queue tells installations apart). */
export function segmentRefreshScheduleId(taskQueue: string): string {
  return `trellis-segment-refresh-${taskQueue}`;
}
