/**
 * A run that keeps collecting signals its wait drops (late or repeated deliveries) continues as new
 * when Temporal suggests it, and goes on with the very same wait. On a dev server of its own whose
 * history limit suggests continue-as-new after 30 events, instead of Temporal's 4,096.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { temporal } from '@temporalio/proto';
import { EVENT_SIGNAL, temporalWorkflowId, type TrackedEventSignal } from '../../core/execution';
import { startTemporalDevServer, type DevServer } from '../../scripts/local-servers';
import { buildWorkflow } from '../support/builders';
import { finishedExecution, onlyExecutionIn, runStarted } from '../support/executions';
import { startTestApp, waitFor, type TestApp } from '../support/harness';

const SUGGEST_AFTER = 30;
const EventType = temporal.api.enums.v1.EventType;

describe('continue-as-new under a stream of dropped signals', () => {
  let dir: string;
  let server: DevServer;
  let app: TestApp;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trellis-can-'));
    server = await startTemporalDevServer({
      dbFilename: path.join(dir, 'temporal.db'),
      sqlite: 'fast',
      dynamicConfig: { 'limit.historyCount.suggestContinueAsNew': SUGGEST_AFTER },
    });
    app = await startTestApp({ env: { TEMPORAL_ADDRESS: server.address } });
  });
  afterAll(async () => {
    await app?.close();
    await server?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('renews the run before its history grows, keeps the wait, and takes the next event', async () => {
    const wf = await buildWorkflow(app.api, {
      eventName: 'trial_started',
      steps: [
        { key: 'wait', type: 'WAIT_FOR_EVENT', config: { eventName: 'upgraded', timeout: 86_400 } },
        { key: 'mark', type: 'UPDATE_CONTACT', config: { data: { plan: '{{event.plan}}' } } },
      ],
      edges: [
        ['trigger', 'wait'],
        ['wait', 'mark', 'event'],
      ],
    });
    const tracked = await app.api.post('/v1/track', { event: 'trial_started', email: 'renewed@example.com' });
    expect(tracked.status).toBe(200);
    const contactId = tracked.body.data.contact as string;
    const run = await onlyExecutionIn(app.api, wf.id, contactId, ['WAITING']);
    await runStarted(app.trellis.client, run.id);
    const handle = app.trellis.client.workflow.getHandle(temporalWorkflowId(run.id));
    const firstRunId = (await handle.describe()).runId;

    // Deliveries of an event recorded long before the wait started: the wait drops every one.
    const stale: TrackedEventSignal = {
      eventId: '00000000-0000-4000-8000-000000000001',
      name: 'upgraded',
      data: { plan: 'stale' },
      recordedAt: '2020-01-01T00:00:00.000Z',
    };
    for (let i = 0; i < SUGGEST_AFTER; i += 1) await handle.signal(EVENT_SIGNAL, stale);

    await waitFor(async () => {
      const { runId } = await handle.describe();
      return runId !== firstRunId ? runId : undefined;
    }, 'a new run of the execution');
    const first = await app.trellis.client.workflow.getHandle(temporalWorkflowId(run.id), firstRunId).fetchHistory();
    expect(first.events!.at(-1)!.eventType).toBe(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW);

    // The new run is still in the same wait, as the API shows it, and a fresh event ends it.
    const waiting = await onlyExecutionIn(app.api, wf.id, contactId, ['WAITING']);
    expect(waiting.currentStepId).toBe(wf.steps.wait);
    expect((await app.api.post('/v1/track', { event: 'upgraded', email: 'renewed@example.com', data: { plan: 'pro' } })).status).toBe(200);

    const done = await finishedExecution(app.api, wf.id, run.id);
    expect(done.status).toBe('COMPLETED');
    expect(done.steps.map((s: { stepId: string; status: string }) => [s.stepId, s.status])).toEqual([
      [wf.triggerId, 'COMPLETED'],
      [wf.steps.wait, 'COMPLETED'],
      [wf.steps.mark, 'COMPLETED'],
    ]);
    const contact = await app.api.get(`/contacts/${contactId}`);
    expect(contact.body.data.plan).toBe('pro');
    // Temporal closes the run a moment after the projection shows it COMPLETED (the step's commit
    // comes first; when a signal arrived as the run completed, Temporal refused the completion and
    // the workflow task ran again, finding the execution COMPLETED by its earlier attempt).
    expect(await handle.result()).toEqual({ status: 'COMPLETED' });
    // Every stale delivery reached one run of the chain (signals that arrive while a run is continuing
    // may renew the next one too, so follow the chain). The fresh event came as a signal, or, when a
    // renewal restarted the wait after it was recorded, from Postgres, its signal then arriving after
    // the run completed: at most one signal.
    const currentRunId = (await handle.describe()).runId;
    const signalled: string[] = [];
    let runs = 0;
    let lastRunId = firstRunId;
    for (let runId: string | undefined = firstRunId; runId; runs += 1) {
      lastRunId = runId;
      const history: temporal.api.history.v1.IHistory = await app.trellis.client.workflow.getHandle(temporalWorkflowId(run.id), runId).fetchHistory();
      const events = history.events!;
      for (const e of events) {
        if (e.eventType !== EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED) continue;
        const payload = e.workflowExecutionSignaledEventAttributes!.input!.payloads![0]!;
        signalled.push((JSON.parse(Buffer.from(payload.data!).toString('utf8')) as TrackedEventSignal).data.plan as string);
      }
      const closing = events.at(-1)!;
      runId =
        closing.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW
          ? closing.workflowExecutionContinuedAsNewEventAttributes!.newExecutionRunId!
          : undefined;
      if (!runId) expect(closing.eventType).toBe(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED);
    }
    expect(runs).toBeGreaterThanOrEqual(2);
    expect(lastRunId).toBe(currentRunId);
    expect(signalled.filter((plan) => plan === 'stale')).toHaveLength(SUGGEST_AFTER);
    expect(signalled.filter((plan) => plan !== 'stale').length).toBeLessThanOrEqual(1);
    expect(signalled.filter((plan) => plan !== 'stale' && plan !== 'pro')).toEqual([]);
  });
});
