/** /settings (SPEC §14.4): one row per project, created on its first change. */
import { canonicalZone } from '../../core/schedule';
import { installationKey } from '../../db/installation-key';
import { changeSettings, DEFAULT_SMS_BASE_URL, MissingAuthToken, readSettings, type ProjectSettings } from '../../db/settings';
import * as api from '../contracts/settings';
import type { ApiDeps } from '../deps';
import { badRequest } from '../errors';
import { route, type Route } from '../routing';

function settingsOut(s: ProjectSettings) {
  return { ...s, updatedAt: s.updatedAt?.toISOString() ?? null };
}

export function settingsRoutes({ database }: ApiDeps): Route[] {
  return [
    route(api.getSettings, async ({ project }) => settingsOut(await readSettings(database.db, project.id))),

    route(api.updateSettings, async ({ project, body }) => {
      const key = body.sms?.authToken === undefined ? Buffer.alloc(0) : await installationKey(database);
      const zone = (z: string) => (z === 'contact' ? z : canonicalZone(z)!);
      const change = {
        timezone: body.timezone === undefined ? undefined : zone(body.timezone),
        quietHours: body.quietHours && { ...body.quietHours, timezone: zone(body.quietHours.timezone ?? 'contact') },
        sms: body.sms && { ...body.sms, baseUrl: body.sms.baseUrl ?? DEFAULT_SMS_BASE_URL },
      };
      try {
        return settingsOut(await database.db.transaction((tx) => changeSettings(tx, project.id, change, key)));
      } catch (err) {
        if (err instanceof MissingAuthToken) throw badRequest(err.message, [{ path: 'sms.authToken', message: err.message }]);
        throw err;
      }
    }),
  ];
}
