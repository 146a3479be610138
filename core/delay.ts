/** Durations of DELAY steps (and of the time-relative filter operators), free of any dependency. */

export const DELAY_UNITS = ['minutes', 'hours', 'days', 'weeks'] as const;
export type DelayUnit = (typeof DELAY_UNITS)[number];

export const UNIT_MILLISECONDS: Readonly<Record<DelayUnit, number>> = {
  minutes: 60_000,
  hours: 3_600_000,
  days: 86_400_000,
  weeks: 604_800_000,
};

/** The longest wait a DELAY step may ask for. */
export const MAX_DELAY_MILLISECONDS = 365 * UNIT_MILLISECONDS.days;

/** How long a DELAY step with this config waits, in milliseconds. */
export function delayMilliseconds(config: { amount: number; unit: DelayUnit }): number {
  return config.amount * UNIT_MILLISECONDS[config.unit];
}
