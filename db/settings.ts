/** Project settings (SPEC §14.4): default zone, quiet hours, SMS provider (its token sealed). */
import { eq, sql } from 'drizzle-orm';
import type { Weekday } from '../core/wait-until';
import type { Tx } from './client';
import { seal, unseal } from './installation-key';
import { projectSettings } from './schema';

export interface QuietHoursSetting {
  start: string;
  end: string;
  /** An IANA zone, or `contact`: the contact's zone as for WAIT_UNTIL. */
  timezone: string;
  days?: Weekday[];
}

export interface SmsProvider {
  accountSid: string;
  from: string;
  baseUrl: string;
}

/** The settings as the API shows them: the SMS auth token is never part of them. */
export interface ProjectSettings {
  timezone: string;
  quietHours: QuietHoursSetting | null;
  sms: SmsProvider | null;
  updatedAt: Date | null;
}

export interface SettingsChange {
  timezone?: string;
  quietHours?: QuietHoursSetting | null;
  /** `authToken` may be left out to keep the stored one. */
  sms?: (SmsProvider & { authToken?: string }) | null;
}

type StoredSms = SmsProvider & { sealedAuthToken: string };

export const DEFAULT_SMS_BASE_URL = 'https://api.twilio.com';

const tokenOwner = (projectId: string) => `sms-token:${projectId}`;

/** A project's settings (the defaults when it has never changed them). */
export async function readSettings(tx: Tx, projectId: string): Promise<ProjectSettings> {
  const [row] = await tx.select().from(projectSettings).where(eq(projectSettings.projectId, projectId));
  if (!row) return { timezone: 'UTC', quietHours: null, sms: null, updatedAt: null };
  const sms = row.sms as StoredSms | null;
  return {
    timezone: row.timezone,
    quietHours: row.quietHours as QuietHoursSetting | null,
    sms: sms && { accountSid: sms.accountSid, from: sms.from, baseUrl: sms.baseUrl },
    updatedAt: row.updatedAt,
  };
}

/** The project's default time zone. */
export async function projectTimezone(tx: Tx, projectId: string): Promise<string> {
  const [row] = await tx.select({ timezone: projectSettings.timezone }).from(projectSettings).where(eq(projectSettings.projectId, projectId));
  return row?.timezone ?? 'UTC';
}

export class MissingAuthToken extends Error {}

/**
 * Applies a change under a row lock (creating the row when needed); the SMS token is sealed with
 * `key`. Throws MissingAuthToken when an SMS provider is set without a token and none is stored.
 */
export async function changeSettings(tx: Tx, projectId: string, change: SettingsChange, key: Buffer): Promise<ProjectSettings> {
  await tx.insert(projectSettings).values({ projectId }).onConflictDoNothing();
  const [row] = await tx.select().from(projectSettings).where(eq(projectSettings.projectId, projectId)).for('update');
  let sms: StoredSms | null | undefined;
  if (change.sms === null) sms = null;
  else if (change.sms) {
    const { authToken, ...provider } = change.sms;
    const kept = (row?.sms as StoredSms | null)?.sealedAuthToken;
    if (authToken === undefined && !kept) throw new MissingAuthToken('authToken is required to set an SMS provider');
    sms = { ...provider, sealedAuthToken: authToken === undefined ? kept! : seal(key, authToken, tokenOwner(projectId)) };
  }
  await tx
    .update(projectSettings)
    .set({
      ...(change.timezone !== undefined ? { timezone: change.timezone } : {}),
      ...(change.quietHours !== undefined ? { quietHours: change.quietHours as Record<string, unknown> | null } : {}),
      ...(sms !== undefined ? { sms: sms as Record<string, unknown> | null } : {}),
      updatedAt: sql`now()`,
    })
    .where(eq(projectSettings.projectId, projectId));
  return readSettings(tx, projectId);
}

/** The SMS provider with its token opened, for sending; null when the project has none. */
export async function smsCredentials(tx: Tx, projectId: string, key: Buffer): Promise<(SmsProvider & { authToken: string }) | null> {
  const [row] = await tx.select({ sms: projectSettings.sms }).from(projectSettings).where(eq(projectSettings.projectId, projectId));
  const sms = row?.sms as StoredSms | null | undefined;
  if (!sms) return null;
  return { accountSid: sms.accountSid, from: sms.from, baseUrl: sms.baseUrl, authToken: unseal(key, sms.sealedAuthToken, tokenOwner(projectId)) };
}
