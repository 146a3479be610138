import type { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { parseStepConfig } from '../../core/step-configs';
import { contactZone, localMoment, movedDate, nextTimeOfDay, quietPeriodEnd } from '../../core/wait-until';

const at = (iso: string) => Date.parse(iso);
const utc = (d: DateTime | undefined) => d?.toUTC().toISO();

describe('nextTimeOfDay', () => {
  it('is later today when the time has not come yet, tomorrow when it has or is now', () => {
    expect(utc(nextTimeOfDay(at('2027-01-12T08:59:00Z'), '09:00', 'UTC'))).toBe('2027-01-12T09:00:00.000Z');
    expect(utc(nextTimeOfDay(at('2027-01-12T09:00:00Z'), '09:00', 'UTC'))).toBe('2027-01-13T09:00:00.000Z');
    expect(utc(nextTimeOfDay(at('2027-01-12T09:00:01Z'), '09:00', 'UTC'))).toBe('2027-01-13T09:00:00.000Z');
  });

  it('reads the time in the zone: ahead of UTC and behind it', () => {
    // 23:30 UTC is already 08:30 the next day in Tokyo (+09:00).
    expect(utc(nextTimeOfDay(at('2027-01-12T23:30:00Z'), '09:00', 'Asia/Tokyo'))).toBe('2027-01-13T00:00:00.000Z');
    // 03:00 UTC is still the evening before in Los Angeles (-08:00).
    expect(utc(nextTimeOfDay(at('2027-01-12T03:00:00Z'), '09:00', 'America/Los_Angeles'))).toBe('2027-01-12T17:00:00.000Z');
  });

  it('keeps to the weekday set, counted in the zone', () => {
    // Tuesday 12 Jan 2027 10:00 UTC; next Monday or Friday at 09:00 is Friday the 15th.
    expect(utc(nextTimeOfDay(at('2027-01-12T10:00:00Z'), '09:00', 'UTC', ['mon', 'fri']))).toBe('2027-01-15T09:00:00.000Z');
    // Tuesday after 09:00 with only Tuesday allowed: a week later.
    expect(utc(nextTimeOfDay(at('2027-01-12T10:00:00Z'), '09:00', 'UTC', ['tue']))).toBe('2027-01-19T09:00:00.000Z');
    // Monday 23:30 UTC is already Tuesday in Tokyo: Tuesday 09:00 Tokyo is the same night.
    expect(utc(nextTimeOfDay(at('2027-01-11T23:30:00Z'), '09:00', 'Asia/Tokyo', ['tue']))).toBe('2027-01-12T00:00:00.000Z');
  });
});

describe('localMoment across daylight saving', () => {
  it('moves a time skipped by the spring-forward gap to the first minute after it', () => {
    // New York, 14 Mar 2027: 02:00 EST jumps to 03:00 EDT.
    expect(localMoment({ year: 2027, month: 3, day: 14 }, '02:30', 'America/New_York').toISO()).toBe('2027-03-14T03:00:00.000-04:00');
    // Lord Howe Island's gap is half an hour (02:00 → 02:30 on 3 Oct 2027).
    expect(localMoment({ year: 2027, month: 10, day: 3 }, '02:10', 'Australia/Lord_Howe').toISO()).toBe('2027-10-03T02:30:00.000+11:00');
  });

  it('takes the earlier of a time that occurs twice', () => {
    // New York, 7 Nov 2027: 01:30 happens in EDT, then again in EST.
    expect(localMoment({ year: 2027, month: 11, day: 7 }, '01:30', 'America/New_York').toISO()).toBe('2027-11-07T01:30:00.000-04:00');
  });

  it('leaves ordinary times alone', () => {
    expect(localMoment({ year: 2027, month: 3, day: 14 }, '03:30', 'America/New_York').toISO()).toBe('2027-03-14T03:30:00.000-04:00');
    expect(localMoment({ year: 2027, month: 3, day: 14 }, '01:59', 'America/New_York').toISO()).toBe('2027-03-14T01:59:00.000-05:00');
  });
});

describe('movedDate', () => {
  it('moves a date by calendar days in the zone, at a local time when given', () => {
    expect(utc(movedDate('2027-04-20', 'UTC', { amount: 30, unit: 'days', direction: 'before' }))).toBe('2027-03-21T00:00:00.000Z');
    // 30 days before 20 Apr across New York's spring-forward: still 09:00 local (EST → EDT).
    expect(movedDate('2027-04-20', 'America/New_York', { amount: 30, unit: 'days', direction: 'before' }, '09:00')?.toISO()).toBe(
      '2027-03-21T09:00:00.000-04:00',
    );
    expect(utc(movedDate('2027-04-20T10:00:00Z', 'UTC', { amount: 2, unit: 'weeks', direction: 'after' }))).toBe('2027-05-04T10:00:00.000Z');
    expect(utc(movedDate('2027-04-20T10:00:00Z', 'Europe/Paris', { amount: 90, unit: 'minutes', direction: 'before' }))).toBe('2027-04-20T08:30:00.000Z');
  });

  it('is undefined for what is not an ISO date', () => {
    expect(movedDate('next tuesday', 'UTC')).toBeUndefined();
    expect(movedDate('', 'UTC')).toBeUndefined();
    expect(movedDate('2027-02-30', 'UTC')).toBeUndefined();
  });
});

describe('contactZone', () => {
  it("uses the contact's valid zone, else the fallback", () => {
    expect(contactZone({ timezone: 'Asia/Tokyo' }, 'UTC')).toBe('Asia/Tokyo');
    expect(contactZone({ timezone: 'Mars/Olympus' }, 'Europe/Paris')).toBe('Europe/Paris');
    expect(contactZone({ timezone: 9 }, 'UTC')).toBe('UTC');
    expect(contactZone({}, 'UTC')).toBe('UTC');
  });
});

describe('quietPeriodEnd', () => {
  const night = { start: '21:00', end: '08:00' };
  it('holds inside a period that crosses midnight, on both sides of midnight', () => {
    expect(utc(quietPeriodEnd(at('2027-01-12T22:00:00Z'), night, 'UTC'))).toBe('2027-01-13T08:00:00.000Z');
    expect(utc(quietPeriodEnd(at('2027-01-13T03:00:00Z'), night, 'UTC'))).toBe('2027-01-13T08:00:00.000Z');
    expect(quietPeriodEnd(at('2027-01-13T08:00:00Z'), night, 'UTC')).toBeUndefined();
    expect(quietPeriodEnd(at('2027-01-13T20:59:59Z'), night, 'UTC')).toBeUndefined();
  });

  it('gives the period to the day it starts on', () => {
    // Friday 22:00 → Saturday 08:00 belongs to Friday; Saturday night is not quiet.
    const weekdays = { ...night, days: ['mon', 'tue', 'wed', 'thu', 'fri'] as const };
    expect(utc(quietPeriodEnd(at('2027-01-16T03:00:00Z'), weekdays, 'UTC'))).toBe('2027-01-16T08:00:00.000Z');
    expect(quietPeriodEnd(at('2027-01-16T22:00:00Z'), weekdays, 'UTC')).toBeUndefined();
  });

  it('reads the period in the zone', () => {
    // 13:00 UTC is 22:00 in Tokyo: quiet until 08:00 Tokyo, 23:00 UTC.
    expect(utc(quietPeriodEnd(at('2027-01-12T13:00:00Z'), night, 'Asia/Tokyo'))).toBe('2027-01-12T23:00:00.000Z');
    expect(utc(quietPeriodEnd(at('2027-01-12T12:00:00Z'), { start: '12:00', end: '13:00' }, 'UTC'))).toBe('2027-01-12T13:00:00.000Z');
  });
});

describe('WAIT_UNTIL config', () => {
  it.each([
    { time: '09:00' },
    { time: '23:59', days: ['mon', 'fri'], timezone: 'Europe/Paris' },
    { time: '00:00', timezone: 'contact' },
    { date: '{{data.serviceDate}}' },
    { date: '{{data.serviceDate}}', offset: { amount: 30, unit: 'days', direction: 'before' }, time: '09:00', timezone: 'America/Chicago' },
    { date: '2027-05-01' },
  ])('accepts %j', (config) => {
    expect(parseStepConfig('WAIT_UNTIL', config)).toMatchObject({ ok: true });
  });

  it.each([
    [{}, [['config.time', 'WAIT_UNTIL needs a time ("HH:MM") or a date']]],
    [{ time: '9:00' }, [['config.time', 'must be a time of day "HH:MM" (24-hour)']]],
    [
      { time: '24:00', days: [] },
      [
        ['config.time', 'must be a time of day "HH:MM" (24-hour)'],
        ['config.days', 'days must name at least one day'],
      ],
    ],
    [{ time: '09:00', days: ['mon', 'mon'] }, [['config.days', 'days must not repeat a day']]],
    [{ time: '09:00', days: ['monday'] }, [['config.days.0', expect.stringContaining('"mon"')]]],
    [{ time: '09:00', timezone: 'Mars/Olympus' }, [['config.timezone', 'timezone must be "contact" or an IANA time zone such as "Europe/Paris"']]],
    [{ time: '09:00', offset: { amount: 1, unit: 'days', direction: 'before' } }, [['config.offset', 'offset applies only with a date']]],
    [{ date: '{{data.d}}', days: ['mon'] }, [['config.days', 'days applies only to a time of day without a date']]],
    [{ date: 'soon' }, [['config.date', 'date must be an ISO date or hold a {{variable}} such as "{{data.serviceDate}}"']]],
    [
      { date: '{{data.d}}', offset: { amount: 0, unit: 'years', direction: 'around' } },
      [
        ['config.offset.amount', expect.any(String)],
        ['config.offset.unit', expect.any(String)],
        ['config.offset.direction', expect.any(String)],
      ],
    ],
    [{ date: '{{data.d}}', offset: { amount: 366, unit: 'days', direction: 'after' } }, [['config.offset.amount', 'an offset is at most 365 days']]],
    [{ time: '09:00', at: 'x' }, [['config.at', 'unknown field "at"']]],
  ])('refuses %j naming every bad field', (config, expected) => {
    const parsed = parseStepConfig('WAIT_UNTIL', config);
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.issues.map((i) => [i.path, i.message])).toEqual(expected);
  });
});
