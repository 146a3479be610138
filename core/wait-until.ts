/**
 * WAIT_UNTIL (SPEC §14.2) and quiet hours (§14.4): local times in IANA zones turned into instants.
 * Pure; every calendar and zone rule is luxon's (daylight-saving gaps and repeated hours included).
 */
import { DateTime } from 'luxon';
import type { DelayUnit } from './delay';
import { canonicalZone } from './schedule';

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** A local time of day, `HH:MM` on a 24-hour clock. */
export const TIME_OF_DAY = /^([01]\d|2[0-3]):[0-5]\d$/;

export interface DateOffset {
  amount: number;
  unit: DelayUnit;
  direction: 'before' | 'after';
}

/** The zone to read local times in: the contact's `data.timezone` when it is a valid IANA zone, else `fallback`. */
export function contactZone(data: Record<string, unknown>, fallback: string): string {
  const own = typeof data.timezone === 'string' ? canonicalZone(data.timezone) : undefined;
  return own ?? fallback;
}

/**
 * The instant of `HH:MM` local on a given date in `zone`. A time that occurs twice (the hour repeated
 * when clocks go back) is the earlier; one skipped by a daylight-saving gap moves to the first minute
 * after the gap.
 */
export function localMoment(date: { year: number; month: number; day: number }, time: string, zone: string): DateTime {
  const [hour, minute] = time.split(':').map(Number) as [number, number];
  const wall = DateTime.fromObject({ year: date.year, month: date.month, day: date.day, hour, minute }, { zone });
  const [earliest] = wall.getPossibleOffsets().sort((a, b) => a.toMillis() - b.toMillis());
  const moment = earliest ?? wall;
  if (moment.hour === hour && moment.minute === minute) return moment;
  // In a gap luxon lands past it by the gap's length; walk back to the gap's end, the first minute
  // whose predecessor still reads earlier than the asked-for time on the clock.
  const asked = `${DateTime.fromObject({ year: date.year, month: date.month, day: date.day }, { zone: 'UTC' }).toISODate()}T${time}`;
  const label = (t: DateTime) => t.toFormat("yyyy-MM-dd'T'HH:mm");
  let t = moment.startOf('minute');
  while (label(t.minus({ minutes: 1 })) > asked) t = t.minus({ minutes: 1 });
  return t;
}

/** The next instant strictly after `now` at `time` local in `zone`, on one of `days` (every day when absent). */
export function nextTimeOfDay(now: number, time: string, zone: string, days?: readonly Weekday[]): DateTime {
  const today = DateTime.fromMillis(now, { zone });
  // Eight days: today's time may have passed and today may be the only allowed weekday.
  for (let i = 0; i <= 7; i++) {
    const date = today.plus({ days: i });
    if (days && !days.includes(WEEKDAYS[date.weekday - 1]!)) continue;
    const moment = localMoment(date, time, zone);
    if (moment.toMillis() > now) return moment;
  }
  throw new Error(`no ${time} on ${days?.join(',')} in ${zone}`);
}

/**
 * An ISO date or date-time (a date alone is midnight in `zone`) moved by `offset`, at `time` local
 * when given; undefined when `value` is not an ISO date. Days and weeks are calendar days in `zone`.
 */
export function movedDate(value: string, zone: string, offset?: DateOffset, time?: string): DateTime | undefined {
  let moment = DateTime.fromISO(value.trim(), { zone });
  if (!moment.isValid) return undefined;
  if (offset) moment = offset.direction === 'before' ? moment.minus({ [offset.unit]: offset.amount }) : moment.plus({ [offset.unit]: offset.amount });
  return time ? localMoment(moment, time, zone) : moment;
}

export interface QuietHours {
  start: string;
  end: string;
  days?: readonly Weekday[];
}

/**
 * When `now` falls inside a quiet period in `zone`, the instant it ends; else undefined. A period
 * that crosses midnight belongs to the day it starts on (`days` names the starting days).
 */
export function quietPeriodEnd(now: number, quiet: QuietHours, zone: string): DateTime | undefined {
  const today = DateTime.fromMillis(now, { zone });
  const crossesMidnight = quiet.end <= quiet.start;
  for (const back of [1, 0]) {
    const day = today.minus({ days: back });
    if (quiet.days && !quiet.days.includes(WEEKDAYS[day.weekday - 1]!)) continue;
    const start = localMoment(day, quiet.start, zone);
    const end = localMoment(crossesMidnight ? day.plus({ days: 1 }) : day, quiet.end, zone);
    if (start.toMillis() <= now && now < end.toMillis()) return end;
  }
  return undefined;
}
