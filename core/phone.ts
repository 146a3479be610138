/** Phone numbers for SEND_SMS (SPEC §14.2). */

/** The number in E.164 (`+` and 7–15 digits) once spaces, dots, dashes and parentheses are removed; undefined otherwise. */
export function e164(raw: string): string | undefined {
  const number = raw.replace(/[\s.()-]/g, '');
  return /^\+[0-9]{7,15}$/.test(number) ? number : undefined;
}
