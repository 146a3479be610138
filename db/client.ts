/** The Postgres pool and the drizzle handle every layer uses. */
import { AsyncLocalStorage } from 'node:async_hooks';
import { drizzle, NodePgSession, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import { getTableColumns, sql, type Table } from 'drizzle-orm';
import { Client, Pool, type PoolClient } from 'pg';
import * as schema from './schema';

export type Db = NodePgDatabase<typeof schema>;
/** A handle that is either the database or a transaction on it. */
export type Tx = Db | Parameters<Parameters<Db['transaction']>[0]>[0];

export interface Database {
  pool: Pool;
  db: Db;
  close(): Promise<void>;
}

/** Reports pool errors (the caller's logger); without one they are dropped, never fatal. */
export type PoolErrorHandler = (message: string, err: Error) => void;

/** The connection each handle runs its statements on: a transaction's client, or the pool for the database. */
const connectionOf = new WeakMap<object, Pool | PoolClient>();

/** Each database's runner of a statement on its own, on a connection tied to the abort scope (runPrepared). */
const aloneOn = new WeakMap<object, (statement: PreparedStatement, values: unknown[]) => Promise<object[]>>();

/** Callbacks waiting for the commit of the transaction they were registered in. */
const afterCommit = new WeakMap<object, (() => void)[]>();

/**
 * Runs `fn` once the transaction `tx` commits (never if it rolls back); at once when `tx` is the
 * database itself (its statement has committed). For effects that must follow only committed
 * writes, such as metrics that count them.
 */
export function onCommit(tx: Tx, fn: () => void): void {
  const pending = afterCommit.get(tx);
  if (pending) pending.push(fn);
  else fn();
}

/** The signal that ends the transactions opened in the current async context (see `abortableBy`). */
const abortScope = new AsyncLocalStorage<AbortSignal>();

/**
 * Runs `fn` with its transactions tied to `signal`: once it aborts, the statement a transaction is
 * running or waiting on (a row lock, say) is cancelled in Postgres, the transaction rolls back and
 * its connection is closed, not kept waiting; and no new one begins. (A transaction between two
 * statements at that moment goes on: the work it does is done again by the retry in any case.)
 * For work that a rollback at any point leaves whole: a local activity's Postgres step, which its
 * retry does again.
 */
export function abortableBy<T>(signal: AbortSignal, fn: () => Promise<T>): Promise<T> {
  return abortScope.run(signal, fn);
}

/**
 * Runs `fn` outside any abortableBy scope: for work that a scoped activity only sets going and that
 * outlives it (the outbox dispatcher's pass, kicked after a step's commit).
 */
export function detachedFromAbort<T>(fn: () => T): T {
  return abortScope.exit(fn);
}

/** Postgres's code for a transaction it aborted to break a deadlock. */
const DEADLOCK_DETECTED = '40P01';

function isDeadlock(err: unknown): boolean {
  for (let e = err as { code?: string; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    if (e.code === DEADLOCK_DETECTED) return true;
  }
  return false;
}

/**
 * Runs `transaction` again when Postgres aborted it to break a deadlock, up to `attempts` runs in
 * all: for the record of an outside effect already made (an email the SMTP server accepted), which
 * a retry of the whole activity would make a second time, and for the API's cancels, which a
 * client should not see fail for a race it did not cause.
 */
export async function retryingDeadlocks<T>(transaction: () => Promise<T>, attempts = 3): Promise<T> {
  for (let run = 1; ; run += 1) {
    try {
      return await transaction();
    } catch (err) {
      if (run >= attempts || !isDeadlock(err)) throw err;
    }
  }
}

/** Cancels the statement backend `pid` is running, from a connection of its own (the pool may have none to spare). */
async function cancelBackend(url: string, pid: number, report: PoolErrorHandler): Promise<void> {
  const c = new Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  c.on('error', () => undefined);
  try {
    await c.connect();
    await c.query('select pg_cancel_backend($1)', [pid]);
  } catch (err) {
    report('postgres statement cancel failed', err as Error);
  } finally {
    await c.end().catch(() => undefined);
  }
}

/** Opens a pool on `url`; errors on idle clients are reported to `onError`, not fatal. */
export function openDatabase(url: string, options: { max?: number; onError?: PoolErrorHandler } = {}): Database {
  // An idle connection is kept for 30 s, longer than the 20 s between the reconciler's and the
  // schedule sync's rounds: with pg's default of 10 s each round opened its connections anew (a
  // backend started, every prepared statement parsed and planned again), two every 20 s a process.
  const pool = new Pool({ connectionString: url, max: options.max ?? 20, connectionTimeoutMillis: 5_000, idleTimeoutMillis: 30_000 });
  const report = options.onError ?? (() => undefined);
  pool.on('error', (err) => report('postgres pool error', err));
  // A checked-out client whose connection drops between queries (a transaction awaiting other work)
  // emits 'error' with no pool listener attached: without this, that would crash the process.
  pool.on('connect', (client) => client.on('error', (err) => report('postgres connection error', err)));
  const db = drizzle(pool, { schema });
  connectionOf.set(db, pool);
  const inner = (db as unknown as { session: PoolSessionParts }).session;
  /**
   * Runs `work` on a client checked out for it, tied to the abort scope (abortableBy): an abort
   * cancels the backend's statement, and the client is then closed rather than pooled, so that a
   * cancel arriving late never reaches another statement on the same backend. `brokenBy` says which
   * failures leave the client unfit to pool.
   */
  async function checkedOut<T>(work: (client: PoolClient) => Promise<T>, brokenBy: (err: unknown) => boolean): Promise<T> {
    const signal = abortScope.getStore();
    signal?.throwIfAborted();
    const client = await pool.connect();
    let broken: Error | undefined;
    const abort = () => {
      broken = new Error('statement aborted');
      void cancelBackend(url, (client as PoolClient & { processID: number }).processID, report);
    };
    signal?.addEventListener('abort', abort, { once: true });
    try {
      signal?.throwIfAborted();
      return await work(client);
    } catch (err) {
      if (brokenBy(err)) broken = err as Error;
      // A statement cancelled by the abort fails as the abort's reason (a local activity's: Temporal's cancellation).
      if (signal?.aborted) throw signal.reason;
      throw err;
    } finally {
      signal?.removeEventListener('abort', abort);
      client.release(broken);
    }
  }
  db.transaction = async (fn, config) => {
    // drizzle's own transaction over a pool never releases its client when BEGIN fails, and hands a
    // dead one back when ROLLBACK fails: a Postgres outage would drain the pool for good (and
    // `close()` would wait forever). So the client is checked out here, and destroyed in those cases.
    const pending: (() => void)[] = [];
    const result = await checkedOut(
      (client) => {
        const session = new NodePgSession(client, inner.dialect, inner.schema, inner.options);
        return session.transaction(async (tx) => {
          const handle = tx as unknown as Parameters<typeof fn>[0];
          track(handle, pending, client);
          return fn(handle);
        }, config);
      },
      (err) => /^(begin|commit|rollback)\b/.test((err as { query?: string }).query ?? ''),
    );
    // drizzle has no commit hook: this wrapper gives every transaction one, whichever layer opened it.
    for (const callback of pending) callback();
    return result;
  };
  aloneOn.set(db, (statement, values) =>
    checkedOut(
      async (client) => (await client.query({ name: statement.name, text: statement.text, values })).rows,
      () => false,
    ),
  );
  return { pool, db, close: () => pool.end() };
}

/** What a transaction session is built from: the pool session's dialect, schema and options (drizzle keeps them private). */
interface PoolSessionParts {
  dialect: ConstructorParameters<typeof NodePgSession>[1];
  schema: ConstructorParameters<typeof NodePgSession>[2];
  options: ConstructorParameters<typeof NodePgSession>[3];
}

/** Registers `tx` for onCommit, and its savepoints with it. */
function track(tx: Parameters<Parameters<Db['transaction']>[0]>[0], pending: (() => void)[], client: PoolClient): void {
  afterCommit.set(tx, pending);
  connectionOf.set(tx, client);
  const savepoint = tx.transaction.bind(tx);
  tx.transaction = async <T>(inner: (sp: typeof tx) => Promise<T>): Promise<T> => {
    const own: (() => void)[] = [];
    const result = await savepoint(async (sp) => {
      track(sp, own, client);
      return inner(sp);
    });
    pending.push(...own);
    return result;
  };
}

/** Answers when Postgres answers a trivial query; throws otherwise (readiness checks). */
export async function pingDatabase(db: Db): Promise<void> {
  await db.execute(sql`select 1`);
}

/**
 * A statement of a hot path (`/v1/track`, enrolment), run as a named prepared statement: Postgres
 * parses and plans it once per connection, and no query builder rebuilds its text per request.
 * Values are bound as the driver sends them (objects for jsonb as `JSON.stringify`d text).
 */
export interface PreparedStatement {
  name: string;
  text: string;
}

const preparedTexts = new Map<string, string>();

/** Declares a prepared statement; a name is one text for the life of the process. */
export function prepared(name: string, text: string): PreparedStatement {
  const known = preparedTexts.get(name);
  if (known !== undefined && known !== text) throw new Error(`prepared statement ${name} declared twice with different text`);
  preparedTexts.set(name, text);
  return { name, text };
}

/**
 * Runs a prepared statement on `tx`; its rows as the statement names them. In a transaction, on its
 * connection; on the database itself, on its own (committed by itself: no BEGIN, no COMMIT) on a
 * connection tied to the abort scope as a transaction's is (abortableBy): an abort cancels it in
 * Postgres.
 */
export async function runPrepared<R>(tx: Tx, statement: PreparedStatement, values: unknown[]): Promise<R[]> {
  const alone = aloneOn.get(tx);
  if (alone) return (await alone(statement, values)) as R[];
  const connection = connectionOf.get(tx);
  if (!connection) throw new Error('runPrepared: a handle that openDatabase did not make');
  const result = await connection.query<R & object>({ name: statement.name, text: statement.text, values });
  return result.rows;
}

/**
 * The select list giving a table's rows the shape drizzle gives them (`"project_id" as "projectId"`,
 * …), for prepared statements that return whole rows (`returning ${rowColumns(contacts)}`).
 */
export function rowColumns(table: Table, alias?: string, keyPrefix = ''): string {
  const prefix = alias ? `${alias}.` : '';
  return Object.entries(getTableColumns(table))
    .map(([key, column]) => `${prefix}"${column.name}" as "${keyPrefix}${key}"`)
    .join(', ');
}

/** The part of a row that rowColumns gave `keyPrefix`, without it (two tables' rows read by one statement). */
export function prefixedRow<R>(row: Record<string, unknown>, keyPrefix: string): R {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(row)) if (key.startsWith(keyPrefix)) out[key.slice(keyPrefix.length)] = value;
  return out as R;
}
