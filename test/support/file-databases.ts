/**
 * Each integration test file has a database of its own: a copy of the one the global setup migrated,
 * made before the file runs (file-database-setup.ts) and dropped after it, so that files run side by
 * side without reading each other's rows or claiming each other's outbox commands.
 */

export const FILE_DATABASE_VARIABLE = 'TRELLIS_TEST_FILE_DATABASE_URL';

/** The running test file's database: what DATABASE_URL is for every process the file starts. */
export function fileDatabaseUrl(): string {
  const url = process.env[FILE_DATABASE_VARIABLE];
  if (!url) throw new Error(`${FILE_DATABASE_VARIABLE} is not set: test/support/file-database-setup.ts is the integration project's setup file`);
  return url;
}

/** The name of the database at `url`. */
export function databaseName(url: string): string {
  return new URL(url).pathname.slice(1);
}

/** What the files' copies of the migrated database are named after, so the global teardown also drops any a killed file left. */
export function fileDatabasePrefix(migratedUrl: string): string {
  return `${databaseName(migratedUrl)}_f`;
}
