import { describe, expect, it } from 'vitest';
import { canonicalZone, cronProblem, nextRuns, scheduleConfigSchema } from '../../core/schedule';

describe('cron expressions of SCHEDULE triggers', () => {
  it.each([
    '* * * * *',
    '0 9 * * 1-5',
    '*/15 9-17 * * MON-FRI',
    '0 0 1,15 * *',
    '30 6 * JAN,JUL SUN',
    '5 4 * * 0',
    '@hourly',
    '@daily',
    '@weekly',
    '@monthly',
    '@yearly',
  ])('accepts %s', (cron) => {
    expect(cronProblem(cron)).toBeUndefined();
  });

  it.each([
    ['', 'expected 5 fields (minute hour day-of-month month day-of-week), got 1'],
    ['* * * *', 'expected 5 fields (minute hour day-of-month month day-of-week), got 4'],
    ['0 * * * * *', 'expected 5 fields (minute hour day-of-month month day-of-week), got 6'],
    ['61 * * * *', 'Invalid value for minute: 61'],
    ['0 24 * * *', 'Invalid value for hour: 24'],
    ['0 0 L * *', 'day of month field: "L" is not a value, range or step (L, W, # and ? are not supported)'],
    ['0 0 ? * MON', 'day of month field: "?" is not a value, range or step (L, W, # and ? are not supported)'],
    ['0 0 * * FRI#2', 'day of week field: "FRI#2" is not a value, range or step (L, W, # and ? are not supported)'],
    ['0 0 * * 7', 'day of week field: use 0 for Sunday (0-6)'],
    ['0 0 30 2 *', 'the expression never matches a date'],
    ['@every 5m', 'unknown shorthand "@every 5m"; use one of @yearly, @monthly, @weekly, @daily, @hourly'],
    ['@reboot', 'unknown shorthand "@reboot"; use one of @yearly, @monthly, @weekly, @daily, @hourly'],
  ])('refuses %j: %s', (cron, reason) => {
    expect(cronProblem(cron)).toBe(reason);
  });

  it('matches a day only when both the day of month and the day of week do, as Temporal does', () => {
    // The 13th that is a Friday, not every 13th and every Friday.
    const runs = nextRuns({ cron: '0 12 13 * 5' }, 3, new Date('2026-01-01T00:00:00Z'));
    expect(runs.map((d) => d.toISOString())).toEqual(['2026-02-13T12:00:00.000Z', '2026-03-13T12:00:00.000Z', '2026-11-13T12:00:00.000Z']);
  });
});

describe('next runs', () => {
  it('reads the cron in the zone, across a daylight-saving change', () => {
    const runs = nextRuns({ cron: '30 9 * * *', timezone: 'Europe/Paris' }, 3, new Date('2026-03-27T12:00:00Z'));
    // Paris moves from UTC+1 to UTC+2 on 29 March 2026.
    expect(runs.map((d) => d.toISOString())).toEqual(['2026-03-28T08:30:00.000Z', '2026-03-29T07:30:00.000Z', '2026-03-30T07:30:00.000Z']);
  });

  it('defaults to UTC and starts strictly after the given time', () => {
    const runs = nextRuns({ cron: '0 * * * *' }, 3, new Date('2026-05-01T10:00:00Z'));
    expect(runs.map((d) => d.toISOString())).toEqual(['2026-05-01T11:00:00.000Z', '2026-05-01T12:00:00.000Z', '2026-05-01T13:00:00.000Z']);
  });
});

describe('time zones', () => {
  it.each([
    ['Europe/Paris', 'Europe/Paris'],
    ['europe/paris', 'Europe/Paris'],
    ['UTC', 'UTC'],
    ['America/Argentina/Buenos_Aires', 'America/Argentina/Buenos_Aires'],
    ['Etc/GMT+5', 'Etc/GMT+5'],
  ])('takes %s as %s', (zone, canonical) => {
    expect(canonicalZone(zone)).toBe(canonical);
  });

  it.each(['Mars/Olympus', '+05:00', 'UTC+1', '', 'Europe/', 'Europe Paris'])('refuses %j', (zone) => {
    expect(canonicalZone(zone)).toBeUndefined();
  });
});

describe('SCHEDULE trigger config', () => {
  it('keeps a valid config, trimming the cron and spelling the zone canonically', () => {
    const id = '0b7d4bb4-6c86-4f42-9b0e-2f1b8f1c0d11';
    expect(scheduleConfigSchema.parse({ cron: ' 0 9 * * * ', timezone: 'asia/tokyo', segmentId: id })).toEqual({
      cron: '0 9 * * *',
      timezone: 'Asia/Tokyo',
      segmentId: id,
    });
  });

  it('reports every bad field at its own path', () => {
    const r = scheduleConfigSchema.safeParse({ cron: '0 0 L * *', timezone: 'Nowhere', segmentId: 'x', every: 5 });
    expect(r.success).toBe(false);
    expect(r.error!.issues.map((i) => i.path.join('.')).sort()).toEqual(['', 'cron', 'segmentId', 'timezone']);
  });
});
