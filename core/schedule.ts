/**
 * SCHEDULE triggers (SPEC §7.2): the cron dialect Trellis accepts, IANA zones, and the next fire
 * times. Pure: the API validates with it and shows the next runs without asking Temporal.
 */
import { Cron } from 'croner';
import { z } from 'zod';

export const DEFAULT_TIMEZONE = 'UTC';

/** The shorthands both croner and Temporal's schedules read the same way. */
const NICKNAMES = ['@yearly', '@monthly', '@weekly', '@daily', '@hourly'];
// One list item of a field: a value or name, an optional range end, an optional step. Croner also
// knows L, W, # and ?, which Temporal's cron parser does not: refusing them keeps the two in step.
const ITEM = /^(\*|\d+|[a-z]{3})(-(\d+|[a-z]{3}))?(\/\d+)?$/i;
const FIELD_NAMES = ['minute', 'hour', 'day of month', 'month', 'day of week'];

/** Parses a cron expression as Temporal will run it (5 fields, day of month AND day of week). */
function parseCron(cron: string, timezone: string): Cron {
  return new Cron(cron, { mode: '5-part', domAndDow: true, timezone, paused: true });
}

/** Why `cron` is not an expression Trellis can schedule, or undefined when it is. */
export function cronProblem(cron: string): string | undefined {
  const text = cron.trim();
  if (text.startsWith('@')) {
    if (!NICKNAMES.includes(text.toLowerCase())) return `unknown shorthand "${text}"; use one of ${NICKNAMES.join(', ')}`;
  } else {
    const fields = text.split(/\s+/);
    if (fields.length !== 5) return `expected 5 fields (minute hour day-of-month month day-of-week), got ${fields.length}`;
    for (const [i, field] of fields.entries()) {
      const bad = field.split(',').find((item) => !ITEM.test(item));
      if (bad !== undefined) return `${FIELD_NAMES[i]} field: "${bad}" is not a value, range or step (L, W, # and ? are not supported)`;
      if (i === 4 && /(^|[^0-9])7($|[^0-9])/.test(field)) return 'day of week field: use 0 for Sunday (0-6)';
    }
  }
  let job: Cron;
  try {
    job = parseCron(text, DEFAULT_TIMEZONE);
  } catch (err) {
    return (err as Error).message.replace(/^CronPattern: /, '');
  }
  if (job.nextRun() === null) return 'the expression never matches a date';
  return undefined;
}

/** The canonical IANA name of `zone`, or undefined when it is not a zone. */
export function canonicalZone(zone: string): string | undefined {
  if (!/^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/.test(zone)) return undefined;
  try {
    const resolved = new Intl.DateTimeFormat('en-US', { timeZone: zone }).resolvedOptions().timeZone;
    // Intl also maps aliases (EST → America/Panama); only the spelling is taken from it.
    return resolved.toLowerCase() === zone.toLowerCase() ? resolved : zone;
  } catch {
    return undefined;
  }
}

export interface ScheduleConfig {
  cron: string;
  timezone?: string;
  segmentId?: string;
}

/** The stored shape of a SCHEDULE workflow's `triggerConfig` (validated in full when written). */
const storedScheduleConfig = z.object({ cron: z.string(), timezone: z.string().optional(), segmentId: z.string().optional() });

/** Reads the stored `triggerConfig` of a SCHEDULE workflow; throws when it is not one. */
export function scheduleConfigOf(triggerConfig: unknown): ScheduleConfig {
  return storedScheduleConfig.parse(triggerConfig);
}

/** `triggerConfig` of a SCHEDULE workflow: a cron Temporal can run, an IANA zone, an optional segment. */
export const scheduleConfigSchema = z.strictObject({
  cron: z
    .string()
    .trim()
    .min(1)
    .max(200)
    .superRefine((cron, ctx) => {
      const problem = cronProblem(cron);
      if (problem) ctx.addIssue({ code: 'custom', message: `invalid cron expression: ${problem}` });
    }),
  timezone: z
    .string()
    .trim()
    .transform((zone, ctx) => {
      const canonical = canonicalZone(zone);
      if (canonical === undefined) {
        ctx.addIssue({ code: 'custom', message: `"${zone}" is not an IANA time zone (e.g. Europe/Paris, UTC)` });
        return z.NEVER;
      }
      return canonical;
    })
    .optional(),
  segmentId: z.uuid({ message: 'must be a segment id (UUID)' }).optional(),
});

/** The next `count` fire times of a schedule after `from`. */
export function nextRuns(config: ScheduleConfig, count: number, from: Date = new Date()): Date[] {
  return parseCron(config.cron, config.timezone ?? DEFAULT_TIMEZONE).nextRuns(count, from);
}
