/** An in-process Trellis (API + worker) against the run's Postgres and Temporal, and a client for it. */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import { inject } from 'vitest';
import { loadConfig, type Config } from '../../app/config';
import { startTrellis, type StartOptions, type Trellis } from '../../app/trellis';
import { createClient, type TrellisClient } from '../../api/client';
import { fileDatabaseUrl } from './file-databases';

export const ADMIN_KEY = 'test-admin-key';

export interface ApiResponse<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

export interface Api {
  request<T = any>(
    method: string,
    path: string,
    body?: unknown,
    options?: { key?: string | null; headers?: Record<string, string>; raw?: string },
  ): Promise<ApiResponse<T>>;
  get<T = any>(path: string): Promise<ApiResponse<T>>;
  post<T = any>(path: string, body?: unknown): Promise<ApiResponse<T>>;
  patch<T = any>(path: string, body?: unknown): Promise<ApiResponse<T>>;
  delete<T = any>(path: string): Promise<ApiResponse<T>>;
  /** The typed client (api/client.ts) with the same key: it throws on a non-2xx answer. */
  client: TrellisClient;
}

export interface TestApp {
  trellis: Trellis;
  url: string;
  project: { id: string; publicKey: string; secretKey: string };
  api: Api;
  /** A client for the same server with another key (or none). */
  as(key: string | null): Api;
  /** Creates another project and a client authenticated as it. */
  newProject(name?: string): Promise<{ id: string; publicKey: string; secretKey: string; api: Api }>;
  close(): Promise<void>;
}

/** The base configuration of a test process; `env` overrides SPEC §2 variables. */
export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig({
    DATABASE_URL: fileDatabaseUrl(),
    TEMPORAL_ADDRESS: inject('temporalAddress'),
    TEMPORAL_TASK_QUEUE: `test-${randomUUID()}`,
    HOST: '127.0.0.1',
    PORT: '0',
    ADMIN_API_KEY: ADMIN_KEY,
    PUBLIC_URL: 'http://trellis.test',
    // Quiet unless asked (`LOG_LEVEL=info npm test` shows every request's JSON line).
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    ...env,
  });
}

/** The workflow bundle built once by the global setup. */
export function workflowBundle(): { codePath: string } {
  const codePath = inject('bundlePath');
  if (!fs.existsSync(codePath)) throw new Error(`workflow bundle missing at ${codePath}`);
  return { codePath };
}

function client(url: string, defaultKey: string | null): Api {
  const request: Api['request'] = async (method, path, body, options = {}) => {
    const key = options.key === undefined ? defaultKey : options.key;
    const headers: Record<string, string> = { ...(options.headers ?? {}) };
    if (key) headers.authorization = `Bearer ${key}`;
    let payload: string | undefined = options.raw;
    if (payload === undefined && body !== undefined) payload = JSON.stringify(body);
    if (payload !== undefined) headers['content-type'] ??= 'application/json';
    const res = await fetch(`${url}${path}`, { method, headers, body: payload, redirect: 'manual' });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      /* not JSON: keep the text */
    }
    return { status: res.status, body: parsed as any, headers: res.headers };
  };
  return {
    request,
    get: (p) => request('GET', p),
    post: (p, b) => request('POST', p, b ?? {}),
    patch: (p, b) => request('PATCH', p, b ?? {}),
    delete: (p) => request('DELETE', p),
    client: createClient({ baseUrl: url, key: defaultKey ?? undefined }),
  };
}

/**
 * Starts Trellis with role `all` and creates a project for the test file. Every answer is held
 * against its route's declaration (schema and statuses): a violation fails the request with a 500
 * or, for an undeclared error status, fails `close()`.
 */
export async function startTestApp(options: { env?: Record<string, string>; start?: StartOptions } = {}): Promise<TestApp> {
  const config = testConfig(options.env);
  // The run's one database serves apps on two Temporal servers: an audit of active executions
  // against one server would find the other's runs missing. reconciler.test.ts turns it on.
  const trellis = await startTrellis(config, { workflowBundle: workflowBundle(), auditRuns: false, checkResponses: true, ...options.start });
  const url = trellis.url!;
  const admin = client(url, ADMIN_KEY);
  const newProject = async (name = 'test project') => {
    const res = await admin.post('/admin/projects', { name });
    if (res.status !== 201) throw new Error(`project creation failed: ${res.status} ${JSON.stringify(res.body)}`);
    const p = res.body as { id: string; publicKey: string; secretKey: string };
    return { ...p, api: client(url, p.secretKey) };
  };
  const main = await newProject();
  return {
    trellis,
    url,
    project: { id: main.id, publicKey: main.publicKey, secretKey: main.secretKey },
    api: main.api,
    as: (key) => client(url, key),
    newProject,
    async close() {
      await trellis.close();
      if (trellis.responseViolations.length) throw new Error(`answers broke their declarations:\n${trellis.responseViolations.join('\n')}`);
    },
  };
}

/** Polls `check` until it returns a value that is not undefined/false, or fails after `timeoutMs`. */
export async function waitFor<T>(check: () => Promise<T | undefined | false>, what: string, timeoutMs = 20_000): Promise<T> {
  const started = Date.now();
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
