/** Event names the system records itself, which clients and TRIGGER_EVENT steps may not use (SPEC §5.6, §14). */

const RESERVED = [/^email\./, /^segment\./, /^tag\./, /^contact\.subscribed$/, /^contact\.unsubscribed$/];

/** True when `name` belongs to the system's own events. */
export function isReservedEventName(name: string): boolean {
  return RESERVED.some((r) => r.test(name));
}

/** How deep a chain of events may go and still enrol contacts (SPEC §14.2 causal depth). */
export const MAX_EVENT_DEPTH = 10;

/** True when an event of this depth may enrol contacts in workflows. */
export function enrolsAtDepth(depth: number): boolean {
  return depth <= MAX_EVENT_DEPTH;
}
