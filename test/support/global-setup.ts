/**
 * Once per test run: a real `temporal server start-dev` and the workflow bundle, shared by every
 * integration test file, and a fresh Postgres database with the schema, which each file copies
 * (file-databases.ts).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import type { TestProject } from 'vitest/node' with { 'resolution-mode': 'import' };
import { runMigrations } from '../../db/migrate';
import { workflowBundleOptions } from '../../temporal/bundle-options';
import { createScratchDatabase, dropScratchDatabases, startTemporalDevServer } from '../../scripts/local-servers';
import { fileDatabasePrefix } from './file-databases';
import { findBinary } from '../../scripts/temporal-binaries';

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
    temporalAddress: string;
    temporalCli: string;
    bundlePath: string;
  }
}

const PG_BASE = process.env.TRELLIS_TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432';

export default async function setup(project: TestProject) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trellis-test-'));
  const database = await createScratchDatabase(PG_BASE, 'trellis_test');
  const [started, migrated, bundled] = await Promise.allSettled([
    startTemporalDevServer({ dbFilename: path.join(dir, 'temporal.db'), sqlite: 'fast' }),
    runMigrations(database.url),
    (async () => bundleWorkflowCode(workflowBundleOptions(path.resolve('temporal/workflows.ts'))))(),
  ]);
  if (started.status === 'rejected' || migrated.status === 'rejected' || bundled.status === 'rejected') {
    // No teardown follows a setup that threw: what did start is stopped here.
    if (started.status === 'fulfilled') await started.value.stop();
    await database.drop();
    fs.rmSync(dir, { recursive: true, force: true });
    throw [started, migrated, bundled].find((r) => r.status === 'rejected')!.reason;
  }
  const [temporal, bundle] = [started.value, bundled.value];
  const bundlePath = path.join(dir, 'workflow-bundle.js');
  fs.writeFileSync(bundlePath, bundle.code);

  project.provide('databaseUrl', database.url);
  project.provide('temporalAddress', temporal.address);
  project.provide('temporalCli', findBinary('temporal', 'TEMPORAL_CLI_PATH')!);
  project.provide('bundlePath', bundlePath);

  return async () => {
    await temporal.stop();
    // Copies a killed file's process left behind (each file drops its own).
    await dropScratchDatabases(PG_BASE, `${fileDatabasePrefix(database.url)}_`);
    await database.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  };
}
