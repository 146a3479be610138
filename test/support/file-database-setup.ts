/** The integration project's setup file: the running test file's own copy of the migrated database (file-databases.ts). */
import { afterAll, beforeAll, inject } from 'vitest';
import { createScratchDatabase, type ScratchDatabase, serverOf } from '../../scripts/local-servers';
import { databaseName, FILE_DATABASE_VARIABLE, fileDatabasePrefix } from './file-databases';

let copy: ScratchDatabase | undefined;

// Before the file's own hooks, which read it.
beforeAll(async () => {
  const migrated = inject('databaseUrl');
  copy = await createScratchDatabase(serverOf(migrated), fileDatabasePrefix(migrated), { template: databaseName(migrated) });
  process.env[FILE_DATABASE_VARIABLE] = copy.url;
});

// After the file's own hooks (after-hooks run in the reverse order of their registration).
afterAll(async () => {
  delete process.env[FILE_DATABASE_VARIABLE];
  await copy?.drop();
});
