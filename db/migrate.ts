/** Applies the versioned migrations in db/migrations; safe when several processes start at once. */
import path from 'node:path';
import fs from 'node:fs';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import { drizzle } from 'drizzle-orm/node-postgres';
import { Client } from 'pg';

/** An arbitrary constant: the advisory lock that serialises migrations across processes. */
const MIGRATION_LOCK = 7_311_520_411;

/** The migrations folder, both from TypeScript sources and from compiled `dist/`. */
function migrationsFolder(): string {
  const here = path.join(__dirname, 'migrations');
  if (fs.existsSync(here)) return here;
  return path.join(__dirname, '..', '..', 'db', 'migrations');
}

/** Brings the database at `url` to the latest schema. */
export async function runMigrations(url: string): Promise<void> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK]);
    await migrate(drizzle(client), { migrationsFolder: migrationsFolder() });
  } finally {
    await client.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    await client.end();
  }
}
