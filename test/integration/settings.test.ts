import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installationKey, unseal } from '../../db/installation-key';
import { projectSettings } from '../../db/schema';
import { smsCredentials } from '../../db/settings';
import { startTestApp, type TestApp } from '../support/harness';

describe('project settings: default zone, quiet hours, SMS provider', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(async () => {
    await app?.close();
  });

  it('starts from the defaults', async () => {
    const res = await app.api.get('/settings');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ timezone: 'UTC', quietHours: null, sms: null, updatedAt: null });
  });

  it('stores every field, never shows the auth token, and keeps it encrypted', async () => {
    const { api, project, trellis } = app;
    const res = await api.patch('/settings', {
      timezone: 'america/chicago',
      quietHours: { start: '21:00', end: '08:00', days: ['mon', 'tue'] },
      sms: { accountSid: 'AC123', authToken: 'tok-s3cret', from: '+1 (415) 555-0100', baseUrl: 'http://127.0.0.1:9999/' },
    });
    expect(res.status).toBe(200);
    const expected = {
      timezone: 'America/Chicago',
      quietHours: { start: '21:00', end: '08:00', timezone: 'contact', days: ['mon', 'tue'] },
      sms: { accountSid: 'AC123', from: '+14155550100', baseUrl: 'http://127.0.0.1:9999' },
    };
    expect(res.body).toMatchObject(expected);
    expect(JSON.stringify(res.body)).not.toContain('tok-s3cret');
    const read = await api.get('/settings');
    expect(read.body).toEqual({ ...expected, updatedAt: res.body.updatedAt });

    // In Postgres the token is sealed (AES-256-GCM), bound to its project.
    const [row] = await trellis.database.db.select().from(projectSettings).where(eq(projectSettings.projectId, project.id));
    const stored = row!.sms as { sealedAuthToken: string };
    expect(JSON.stringify(row)).not.toContain('tok-s3cret');
    const key = await installationKey(trellis.database);
    expect(unseal(key, stored.sealedAuthToken, `sms-token:${project.id}`)).toBe('tok-s3cret');
    expect(() => unseal(key, stored.sealedAuthToken, 'sms-token:another-project')).toThrow();
    expect(await smsCredentials(trellis.database.db, project.id, key)).toEqual({ ...expected.sms, authToken: 'tok-s3cret' });

    // A change without the token keeps the stored one; a field left out is left alone.
    const moved = await api.patch('/settings', { sms: { accountSid: 'AC456', from: '+14155550199' } });
    expect(moved.body).toMatchObject({ timezone: 'America/Chicago', sms: { accountSid: 'AC456', from: '+14155550199', baseUrl: 'https://api.twilio.com' } });
    expect(await smsCredentials(trellis.database.db, project.id, key)).toMatchObject({ accountSid: 'AC456', authToken: 'tok-s3cret' });

    // null clears; another project keeps its own defaults.
    const cleared = await api.patch('/settings', { quietHours: null, sms: null });
    expect(cleared.body).toMatchObject({ timezone: 'America/Chicago', quietHours: null, sms: null });
    const other = await app.newProject('other');
    expect((await other.api.get('/settings')).body).toEqual({ timezone: 'UTC', quietHours: null, sms: null, updatedAt: null });
  });

  it('refuses an SMS provider without a token when none is stored', async () => {
    const other = await app.newProject('no token');
    const res = await other.api.patch('/settings', { sms: { accountSid: 'AC1', from: '+14155550100' } });
    expect(res.status).toBe(400);
    expect(res.body.error.details).toEqual([{ path: 'sms.authToken', message: 'authToken is required to set an SMS provider' }]);
  });

  it('answers 400 with the path of every bad zone, time and field', async () => {
    const res = await app.api.patch('/settings', {
      timezone: 'Mars/Olympus',
      quietHours: { start: '25:00', end: '8:00', timezone: 'Nowhere', days: ['someday'] },
      sms: { accountSid: '', authToken: '', from: '555', baseUrl: 'ftp://x', extra: 1 },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_ERROR');
    expect(res.body.error.details.map((d: { path: string }) => d.path).sort()).toEqual(
      [
        'timezone',
        'quietHours.start',
        'quietHours.end',
        'quietHours.timezone',
        'quietHours.days.0',
        'sms.accountSid',
        'sms.authToken',
        'sms.from',
        'sms.baseUrl',
        'sms.extra',
      ].sort(),
    );
    const same = await app.api.patch('/settings', { quietHours: { start: '08:00', end: '08:00' } });
    expect(same.status).toBe(400);
    expect(same.body.error.details).toEqual([{ path: 'quietHours.end', message: 'end must differ from start' }]);
    expect((await app.api.get('/settings')).body.timezone).toBe('America/Chicago');
  });
});
