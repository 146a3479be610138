/** The Postgres pool and the drizzle handle every layer uses. */
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import { Pool } from 'pg';
import * as schema from './schema';

export type Db = NodePgDatabase<typeof schema>;
/** A handle that is either the database or a transaction on it. */
export type Tx = Db | Parameters<Parameters<Db['transaction']>[0]>[0];

export interface Database {
  pool: Pool;
  db: Db;
  close(): Promise<void>;
}

/** Opens a pool on `url`; errors on idle clients are logged, not fatal. */
export function openDatabase(url: string, options: { max?: number } = {}): Database {
  const pool = new Pool({ connectionString: url, max: options.max ?? 20, connectionTimeoutMillis: 5_000 });
  pool.on('error', (err) => console.error('postgres pool error:', err.message));
  // A checked-out client whose connection drops between queries (a transaction awaiting other work)
  // emits 'error' with no pool listener attached: without this, that would crash the process.
  pool.on('connect', (client) => client.on('error', (err) => console.error('postgres connection error:', err.message)));
  const db = drizzle(pool, { schema });
  return { pool, db, close: () => pool.end() };
}
