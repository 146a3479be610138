/** Project settings (SPEC §14.4) as the engine reads them. */
import type { Tx } from './client';

/** The project's default time zone. */
export async function projectTimezone(_tx: Tx, _projectId: string): Promise<string> {
  return 'UTC';
}
