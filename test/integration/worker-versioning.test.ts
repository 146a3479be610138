import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startTrellis, type Trellis } from '../../app/trellis';
import { buildWorkflow } from '../support/builders';
import { executionIn, onlyExecutionIn, runStarted } from '../support/executions';
import { startTestApp, testConfig, waitFor, workflowBundle, type TestApp } from '../support/harness';

const run = promisify(execFile);

/** Runs the `temporal` CLI against the run's dev server, as an operator would. */
async function temporalCli(...args: string[]): Promise<string> {
  const { stdout } = await run(inject('temporalCli'), [...args, '--address', inject('temporalAddress')], { timeout: 30_000 });
  return stdout;
}

describe('Worker Versioning (TEMPORAL_DEPLOYMENT_NAME / TEMPORAL_BUILD_ID)', () => {
  const deployment = `trellis-test-${randomUUID().slice(0, 8)}`;
  let api: TestApp;
  const workers: Partial<Record<'v1' | 'v2', Trellis>> = {};

  /** A worker process polling the API's task queue as version `buildId` of the deployment. */
  const startVersion = (buildId: 'v1' | 'v2') =>
    startTrellis(
      {
        ...testConfig({ ROLE: 'worker', TEMPORAL_DEPLOYMENT_NAME: deployment, TEMPORAL_BUILD_ID: buildId }),
        taskQueue: api.trellis.config.taskQueue,
      },
      { workflowBundle: workflowBundle(), auditRuns: false },
    );
  /** `set-current-version` refuses a version Temporal has not seen polling yet: retried until it has. */
  const makeCurrent = (buildId: string) =>
    waitFor(
      () => temporalCli('worker', 'deployment', 'set-current-version', '--deployment-name', deployment, '--build-id', buildId, '--yes').then(() => true),
      `${buildId} made current`,
      30_000,
    );
  const versionOf = async (executionId: string) => {
    const { raw } = await api.trellis.client.workflow.getHandle(`trellis-execution-${executionId}`).describe();
    const info = raw.workflowExecutionInfo?.versioningInfo;
    return { buildId: info?.deploymentVersion?.buildId, deploymentName: info?.deploymentVersion?.deploymentName, behavior: info?.behavior };
  };

  /** A workflow on `eventName` that waits for `paid` and then marks the contact; the run of `email`, WAITING. */
  const waitingRun = async (eventName: string, paid: string, email: string) => {
    const wf = await buildWorkflow(api.api, {
      eventName,
      steps: [
        { key: 'wait', type: 'WAIT_FOR_EVENT', config: { eventName: paid, timeout: 3600 } },
        { key: 'mark', type: 'UPDATE_CONTACT', config: { data: { marked: true } } },
      ],
      edges: [
        ['trigger', 'wait'],
        ['wait', 'mark', 'event'],
      ],
    });
    await api.api.post('/v1/track', { event: eventName, email });
    const waiting = await onlyExecutionIn(api.api, wf.id, undefined, ['WAITING']);
    await runStarted(api.trellis.client, waiting.id);
    return { wf, waiting };
  };

  beforeAll(async () => {
    api = await startTestApp({ env: { ROLE: 'api' } });
    workers.v1 = await startVersion('v1');
  });
  afterAll(async () => {
    await workers.v1?.close();
    await workers.v2?.close();
    await api?.close();
  });

  it('runs executions on the current version, and a waiting run finishes on the next one once it is made current', async () => {
    await makeCurrent('v1');
    const { wf, waiting } = await waitingRun('ordered', 'paid', 'ada@versions.test');
    // Temporal records the version that ran its last workflow task (and the behaviour Trellis asked for).
    await waitFor(async () => (await versionOf(waiting.id)).buildId === 'v1', 'the run on v1');
    expect(await versionOf(waiting.id)).toEqual({ buildId: 'v1', deploymentName: deployment, behavior: 2 /* AUTO_UPGRADE */ });

    // The rollout: v2 starts polling, becomes current, and v1 stops.
    workers.v2 = await startVersion('v2');
    await makeCurrent('v2');
    await workers.v1!.close();
    workers.v1 = undefined;
    const described = JSON.parse(await temporalCli('worker', 'deployment', 'describe', '--name', deployment, '--output', 'json'));
    expect(described.routingConfig.currentVersionBuildID).toBe('v2');
    // v1 still has a run it last worked on: Temporal shows it draining, not drained.
    expect(described.versionSummaries.map((v: { BuildID: string; drainageStatus: string }) => [v.BuildID, v.drainageStatus]).sort()).toEqual([
      ['v1', 'draining'],
      ['v2', 'unspecified'],
    ]);

    await api.api.post('/v1/track', { event: 'paid', email: 'ada@versions.test' });
    const done = await executionIn(api.api, wf.id, waiting.id, ['COMPLETED'], 30_000);
    expect(done.steps.map((s: { type: string; status: string }) => [s.type, s.status])).toEqual([
      ['TRIGGER', 'COMPLETED'],
      ['WAIT_FOR_EVENT', 'COMPLETED'],
      ['UPDATE_CONTACT', 'COMPLETED'],
    ]);
    expect((await api.api.get(`/contacts/${waiting.contactId}`)).body.data).toEqual({ marked: true });
    // The API shows COMPLETED once the run's last local activity commits, inside the workflow task that
    // Temporal records the version of when it completes: the run's own end is awaited first.
    await api.trellis.client.workflow.getHandle(`trellis-execution-${waiting.id}`).result();
    expect(await versionOf(waiting.id)).toEqual({ buildId: 'v2', deploymentName: deployment, behavior: 2 });
  }, 120_000);

  it('keeps runs pinned to the old version by a batch update-options while another version is current (the unpatchable change)', async () => {
    // Only v1 polls while the run starts: with the last test's v2 still polling, the run's first task
    // could go to v2 before the server's routing saw v1 made current again.
    await workers.v2?.close();
    workers.v2 = undefined;
    workers.v1 = await startVersion('v1');
    await makeCurrent('v1');
    const { wf, waiting } = await waitingRun('pinned', 'pinned.paid', 'pin@versions.test');
    await waitFor(async () => (await versionOf(waiting.id)).buildId === 'v1', 'the run on v1');
    // Runs of a version are found by Temporal's own search attribute "<deployment>:<build id>".
    const query = `ExecutionStatus='Running' AND TemporalWorkerDeploymentVersion='${deployment}:v1' AND TrellisWorkflowId='${wf.id}'`;
    await waitFor(async () => (await api.trellis.client.workflow.count(query)).count === 1, 'the run listed under v1');
    await temporalCli(
      'workflow',
      'update-options',
      '--query',
      query,
      '--yes',
      '--versioning-override-behavior',
      'pinned',
      '--versioning-override-deployment-name',
      deployment,
      '--versioning-override-build-id',
      'v1',
    );
    await waitFor(async () => {
      const { raw } = await api.trellis.client.workflow.getHandle(`trellis-execution-${waiting.id}`).describe();
      return raw.workflowExecutionInfo?.versioningInfo?.versioningOverride?.pinned?.version?.buildId === 'v1';
    }, 'the run pinned to v1');

    workers.v2 = await startVersion('v2');
    await makeCurrent('v2');
    await api.api.post('/v1/track', { event: 'pinned.paid', email: 'pin@versions.test' });
    await executionIn(api.api, wf.id, waiting.id, ['COMPLETED'], 30_000);
    await api.trellis.client.workflow.getHandle(`trellis-execution-${waiting.id}`).result();
    // v2 is current, yet the pinned run finished on v1's workers.
    expect((await versionOf(waiting.id)).buildId).toBe('v1');
  }, 120_000);
});
