import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { eq } from 'drizzle-orm';
import { startTrellis, type Trellis } from '../../app/trellis';
import { outbox } from '../../db/schema';
import { buildWorkflow } from '../support/builders';
import { startTestApp, testConfig, waitFor, workflowBundle, type TestApp } from '../support/harness';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy';

describe('while Temporal is unreachable', () => {
  let proxy: TcpProxy;
  let api: TestApp;
  let worker: Trellis;

  beforeAll(async () => {
    proxy = await startTcpProxy(inject('temporalAddress'));
    // The API reaches Temporal only through the proxy. The worker (which connects directly, and
    // whose dispatcher would carry the queued commands out as well) starts once Temporal is back.
    api = await startTestApp({ env: { ROLE: 'api', TEMPORAL_ADDRESS: proxy.address } });
  });
  afterAll(async () => {
    await api?.close();
    await worker?.close();
    await proxy?.close();
  });

  it('keeps accepting events, and runs their enrolments once Temporal is back', async () => {
    const wf = await buildWorkflow(api.api, {
      eventName: 'ordered',
      steps: [{ key: 'tag', type: 'UPDATE_CONTACT', config: { data: { ordered: true } } }],
      edges: [['trigger', 'tag']],
    });

    proxy.down();
    const answers = await Promise.all(['a', 'b', 'c'].map((n) => api.api.post('/v1/track', { event: 'ordered', email: `${n}@outage.test` })));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    // Committed in Postgres, waiting for Temporal: three RUNNING executions, three queued starts.
    const running = await api.api.get(`/workflows/${wf.id}/executions?status=RUNNING`);
    expect(running.body.total).toBe(3);
    const queued = await api.trellis.database.db.select().from(outbox).where(eq(outbox.kind, 'start'));
    expect(queued.filter((q) => running.body.data.some((e: { id: string }) => e.id === q.executionId))).toHaveLength(3);

    // A cancel needs Temporal now: 503, and nothing changes.
    const cancel = await api.api.post(`/workflows/${wf.id}/executions/cancel-all`);
    expect(cancel.status).toBe(503);
    expect(cancel.body.error.code).toBe('SERVICE_UNAVAILABLE');

    proxy.up();
    worker = await startTrellis({ ...testConfig({ ROLE: 'worker' }), taskQueue: api.trellis.config.taskQueue }, { workflowBundle: workflowBundle() });
    await waitFor(async () => (await api.api.get(`/workflows/${wf.id}/executions?status=COMPLETED`)).body.total === 3, 'all three COMPLETED', 60_000);
    for (const e of running.body.data) {
      const contact = await api.api.get(`/contacts/${e.contactId}`);
      expect(contact.body.data).toEqual({ ordered: true });
    }
  }, 90_000);
});
