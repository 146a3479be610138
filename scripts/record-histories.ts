/**
 * Records replay fixtures: runs one execution through every step type on the time-skipping test
 * server and writes each Temporal history to test/fixtures/histories/. `replay.test.ts` replays them
 * against the current interpreter, so a change that would break runs in flight fails a test
 * (then put it behind `patched()`, see temporal/README.md).
 *
 *   npx tsx scripts/record-histories.ts
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { loadConfig } from '../app/config';
import { startTrellis } from '../app/trellis';
import { createScratchDatabase } from './local-servers';
import { findBinary } from './temporal-binaries';

const OUT = path.resolve('test/fixtures/histories');
const PG_BASE = process.env.TRELLIS_TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432';

async function main(): Promise<void> {
  const server = findBinary('temporal-test-server', 'TEMPORAL_TEST_SERVER_PATH');
  if (!server) throw new Error('temporal-test-server not found');
  const env = await TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path: server } } });
  const scratch = await createScratchDatabase(PG_BASE, 'trellis_record');
  const hook = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'));
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', () => r()));
  const hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`;

  const trellis = await startTrellis(
    loadConfig({
      DATABASE_URL: scratch.url,
      HOST: '127.0.0.1',
      PORT: '0',
      ADMIN_API_KEY: 'record',
      WEBHOOK_ALLOW_PRIVATE: 'true',
      TEMPORAL_TASK_QUEUE: 'record',
      LOG_LEVEL: 'warn',
    }),
    { temporal: { client: env.client, nativeConnection: env.nativeConnection, visibility: false } },
  );
  const call = async (method: string, p: string, key: string, body?: unknown) => {
    const res = await fetch(`${trellis.url}${p}`, {
      method,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = (await res.json().catch(() => undefined)) as any;
    if (res.status >= 300) throw new Error(`${method} ${p}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  const project = await call('POST', '/admin/projects', 'record', { name: 'record' });
  const sk = project.secretKey as string;
  const template = await call('POST', '/templates', sk, { name: 't', subject: 'Hi {{firstName}}', body: '<p>Hi</p>' });

  /** Builds an enabled workflow from `steps` in a chain (or with explicit edges) and returns its id. */
  async function workflow(name: string, steps: { key: string; type: string; config?: unknown }[], edges: [string, string, string?][]) {
    const wf = await call('POST', '/workflows', sk, { name, eventName: name, allowReentry: true });
    const ids: Record<string, string> = { trigger: wf.steps[0].id };
    for (const s of steps) ids[s.key] = (await call('POST', `/workflows/${wf.id}/steps`, sk, { type: s.type, name: s.key, config: s.config ?? {} })).id;
    for (const [from, to, branch] of edges)
      await call('POST', `/workflows/${wf.id}/transitions`, sk, { fromStepId: ids[from], toStepId: ids[to], ...(branch ? { branch } : {}) });
    await call('PATCH', `/workflows/${wf.id}`, sk, { enabled: true });
    return wf.id as string;
  }

  const everything = await workflow(
    'every-step',
    [
      { key: 'update', type: 'UPDATE_CONTACT', config: { data: { stage: 'new' } } },
      { key: 'email', type: 'SEND_EMAIL', config: { templateId: template.id } },
      { key: 'delay', type: 'DELAY', config: { amount: 2, unit: 'days' } },
      { key: 'wait', type: 'WAIT_FOR_EVENT', config: { eventName: 'clicked', timeout: 3600 } },
      { key: 'check', type: 'CONDITION', config: { field: 'data.stage', operator: 'equals', value: 'new' } },
      { key: 'hook', type: 'WEBHOOK', config: { url: hookUrl } },
      { key: 'exit', type: 'EXIT', config: { reason: 'done' } },
    ],
    [
      ['trigger', 'update'],
      ['update', 'email'],
      ['email', 'delay'],
      ['delay', 'wait'],
      ['wait', 'check'],
      ['check', 'hook', 'yes'],
      ['hook', 'exit'],
    ],
  );
  const waiting = await workflow(
    'event-branch',
    [
      { key: 'wait', type: 'WAIT_FOR_EVENT', config: { eventName: 'paid' } },
      { key: 'u', type: 'UPDATE_CONTACT', config: { data: { paid: true } } },
    ],
    [
      ['trigger', 'wait'],
      ['wait', 'u', 'event'],
    ],
  );

  await call('POST', '/v1/track', sk, { event: 'every-step', email: 'a@record.test', data: { firstName: 'A' } });
  await call('POST', '/v1/track', sk, { event: 'event-branch', email: 'b@record.test' });
  await trellis.dispatcher.drain();
  const idOf = async (wf: string) => {
    for (;;) {
      const list = await call('GET', `/workflows/${wf}/executions`, sk);
      if (list.data[0]) return list.data[0].id as string;
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const a = await idOf(everything);
  const b = await idOf(waiting);
  await new Promise((r) => setTimeout(r, 1000));
  await call('POST', '/v1/track', sk, { event: 'paid', email: 'b@record.test', data: { amount: 5 } });
  await trellis.dispatcher.drain();
  await env.client.workflow.getHandle(`trellis-execution-${b}`).result();
  await env.sleep('3 days');
  await env.client.workflow.getHandle(`trellis-execution-${a}`).result();

  fs.mkdirSync(OUT, { recursive: true });
  for (const [name, id] of [
    ['every-step', a],
    ['event-branch', b],
  ] as const) {
    const history = await env.client.workflow.getHandle(`trellis-execution-${id}`).fetchHistory();
    // Binary protobuf: exactly what the server sent, without a lossy JSON round trip (64-bit ids).
    fs.writeFileSync(path.join(OUT, `${name}.history.bin`), temporal.api.history.v1.History.encode(history).finish());
    console.info(`recorded ${name} (${history.events?.length} events)`);
  }

  await trellis.close();
  await env.teardown();
  hook.close();
  await scratch.drop();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
