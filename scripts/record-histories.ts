/**
 * Records replay fixtures on a real `temporal server start-dev` (search attributes registered, as in
 * production): one run per case below, covering every step type, both WAIT_FOR_EVENT outcomes, a
 * cancel, a failure, a webhook's first attempt handing its call over, and EXIT. Each run's Temporal history is written to
 * test/fixtures/histories/<label>/<case>.history.bin; `replay.test.ts` replays every fixture against
 * the current interpreter, so a change that would break runs in flight fails a test.
 *
 * Run it on the code that is deployed (the release tag) before shipping the next one, and commit the
 * new folder next to the older ones (README, "Rolling out a new version"):
 *
 *   npx tsx scripts/record-histories.ts [label]      # label: default today's date (UTC)
 *
 * Needs the Postgres of the tests (TRELLIS_TEST_POSTGRES) and the `temporal` CLI. Takes a few
 * minutes: the DELAY case waits its one minute in real time.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { loadConfig } from '../app/config';
import { startTrellis } from '../app/trellis';
import { createScratchDatabase, startTemporalDevServer } from './local-servers';

const PG_BASE = process.env.TRELLIS_TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432';
const ADMIN = 'record';

type Step = { key: string; type: string; config: unknown };
type Edge = { from: string; to: string; branch?: string };
type Json = any;

/** A workflow document with an EVENT trigger on the case's own event, steps chained by `edges`. */
function document(name: string, steps: Step[], edges: [string, string, string?][], trigger: 'EVENT' | 'MANUAL' = 'EVENT') {
  return {
    name,
    triggerType: trigger,
    triggerConfig: trigger === 'EVENT' ? { eventName: `record.${name}` } : {},
    allowReentry: true,
    templates: [{ key: 'hello', name: 'Hello', subject: 'Hello {{ firstName ?? there }}', body: '<p>Hello</p>' }],
    steps: steps.map((s) => ({ ...s, name: s.key })),
    transitions: edges.map(([from, to, branch]): Edge => ({ from, to, ...(branch ? { branch } : {}) })),
  };
}

async function main(): Promise<void> {
  const label = process.argv[2] ?? new Date().toISOString().slice(0, 10);
  const out = path.resolve('test/fixtures/histories', label);
  if (fs.existsSync(out)) throw new Error(`${out} exists: pick another label (fixtures of a release are never re-recorded)`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trellis-record-'));
  const server = await startTemporalDevServer({ dbFilename: path.join(dir, 'temporal.db'), sqlite: 'fast' });
  const scratch = await createScratchDatabase(PG_BASE, 'trellis_record');
  // The WEBHOOK receiver: `/refuse` answers 400 (a failure no retry can fix), the first call to
  // `/busy-once` 503 (one a retry mends), everything else 200.
  let busyAnswered = false;
  const hook = http.createServer((req, res) => {
    req.resume().on('end', () => {
      const busy = req.url === '/busy-once' && !busyAnswered;
      if (busy) busyAnswered = true;
      const status = req.url === '/refuse' ? 400 : busy ? 503 : 200;
      res.writeHead(status, { 'content-type': 'application/json' }).end(status === 200 ? '{"ok":true}' : '{"error":"no"}');
    });
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', () => r()));
  const hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}`;

  const trellis = await startTrellis(
    loadConfig({
      DATABASE_URL: scratch.url,
      TEMPORAL_ADDRESS: server.address,
      TEMPORAL_TASK_QUEUE: 'record',
      HOST: '127.0.0.1',
      PORT: '0',
      ADMIN_API_KEY: ADMIN,
      WEBHOOK_ALLOW_PRIVATE: 'true',
      // The `failed` case logs its failure at warn: expected here.
      LOG_LEVEL: 'error',
    }),
  );
  const call = async (method: string, p: string, key: string, body?: unknown): Promise<Json> => {
    const res = await fetch(`${trellis.url}${p}`, {
      method,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = (await res.json().catch(() => undefined)) as Json;
    if (res.status >= 300) throw new Error(`${method} ${p}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  const sk = ((await call('POST', '/admin/projects', ADMIN, { name: 'record' })) as { secretKey: string }).secretKey;
  const create = async (doc: ReturnType<typeof document>) => {
    const wf = await call('POST', '/workflows', sk, doc);
    await call('PATCH', `/workflows/${wf.id}`, sk, { enabled: true });
    return wf.id as string;
  };
  const track = (event: string, email: string, data: Json = {}) => call('POST', '/v1/track', sk, { event, email, data });
  const until = async <T>(what: string, check: () => Promise<T | undefined>): Promise<T> => {
    const started = Date.now();
    for (;;) {
      const v = await check();
      if (v !== undefined) return v;
      if (Date.now() - started > 180_000) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  /** The workflow's one execution once it has `status` (and, when given, stands on step `stepKey`). */
  const execution = (wf: string, status: string) =>
    until(`${wf} ${status}`, async () => {
      const list = await call('GET', `/workflows/${wf}/executions?status=${status}`, sk);
      return list.data[0] ? ((await call('GET', `/workflows/${wf}/executions/${list.data[0].id}`, sk)) as Json) : undefined;
    });

  // START_WORKFLOW's target: a manual workflow of one UPDATE_CONTACT.
  const started = await create(
    document('started', [{ key: 'mark', type: 'UPDATE_CONTACT', config: { data: { started: true } } }], [['trigger', 'mark']], 'MANUAL'),
  );
  const cases: Record<string, string> = {
    // Every step type but DELAY on one path; the event arrives during the wait; ends by EXIT.
    steps: await create(
      document(
        'steps',
        [
          { key: 'update', type: 'UPDATE_CONTACT', config: { data: { stage: 'new' }, addTags: ['lead'] } },
          { key: 'email', type: 'SEND_EMAIL', config: { templateKey: 'hello' } },
          { key: 'emit', type: 'TRIGGER_EVENT', config: { eventName: 'record.emitted', data: { from: 'steps' } } },
          { key: 'enrol', type: 'START_WORKFLOW', config: { workflowId: started } },
          { key: 'hook', type: 'WEBHOOK', config: { url: `${hookUrl}/hook`, body: { case: 'steps' } } },
          { key: 'check', type: 'CONDITION', config: { field: 'data.stage', operator: 'equals', value: 'new' } },
          {
            key: 'split',
            type: 'SPLIT',
            config: {
              branches: [
                { name: 'a', weight: 1 },
                { name: 'b', weight: 1 },
              ],
            },
          },
          { key: 'mark', type: 'UPDATE_CONTACT', config: { data: { variant: 'b' } } },
          { key: 'wait', type: 'WAIT_FOR_EVENT', config: { eventName: 'record.paid', timeout: 600 } },
          { key: 'exit', type: 'EXIT', config: { reason: 'paid' } },
        ],
        [
          ['trigger', 'update'],
          ['update', 'email'],
          ['email', 'emit'],
          ['emit', 'enrol'],
          ['enrol', 'hook'],
          ['hook', 'check'],
          ['check', 'split', 'yes'],
          ['split', 'wait', 'a'],
          // Branch `b` issues one more activity: a change to SPLIT's choice shows in a replay.
          ['split', 'mark', 'b'],
          ['mark', 'wait'],
          ['wait', 'exit', 'event'],
        ],
      ),
    ),
    // A durable timer that fires, then a CONDITION that takes `no`.
    delay: await create(
      document(
        'delay',
        [
          { key: 'pause', type: 'DELAY', config: { amount: 1, unit: 'minutes' } },
          { key: 'check', type: 'CONDITION', config: { field: 'data.stage', operator: 'equals', value: 'never' } },
          { key: 'mark', type: 'UPDATE_CONTACT', config: { data: { checked: 'no' } } },
        ],
        [
          ['trigger', 'pause'],
          ['pause', 'check'],
          ['check', 'mark', 'no'],
        ],
      ),
    ),
    // No event comes: the wait's timer wins.
    'wait-timeout': await create(
      document(
        'wait-timeout',
        [
          { key: 'wait', type: 'WAIT_FOR_EVENT', config: { eventName: 'record.never', timeout: 2 } },
          { key: 'mark', type: 'UPDATE_CONTACT', config: { data: { timedOut: true } } },
        ],
        [
          ['trigger', 'wait'],
          ['wait', 'mark', 'timeout'],
        ],
      ),
    ),
    // Cancelled through the API while it waits.
    cancelled: await create(document('cancelled', [{ key: 'wait', type: 'WAIT_FOR_EVENT', config: { eventName: 'record.never' } }], [['trigger', 'wait']])),
    // A webhook answered 400: the step and the execution fail.
    failed: await create(document('failed', [{ key: 'hook', type: 'WEBHOOK', config: { url: `${hookUrl}/refuse` } }], [['trigger', 'hook']])),
    // A webhook answered 503, then 200: the first attempt (local) hands the call over to an activity task.
    retried: await create(
      document(
        'retried',
        [
          { key: 'hook', type: 'WEBHOOK', config: { url: `${hookUrl}/busy-once` } },
          { key: 'mark', type: 'UPDATE_CONTACT', config: { data: { hooked: true } } },
        ],
        [
          ['trigger', 'hook'],
          ['hook', 'mark'],
        ],
      ),
    ),
    // WAIT_UNTIL a moment a minute ahead: its activity fixes the instant, its durable timer fires.
    'wait-until': await create(
      document(
        'wait-until',
        [
          { key: 'until', type: 'WAIT_UNTIL', config: { date: new Date(Date.now() + 60_000).toISOString() } },
          { key: 'mark', type: 'UPDATE_CONTACT', config: { data: { waited: true } } },
        ],
        [
          ['trigger', 'until'],
          ['until', 'mark'],
        ],
      ),
    ),
  };
  // An exit goal reached while the run waits in a DELAY: the run ends EXITED `goal:record.reached`.
  const goal = await call(
    'POST',
    '/workflows',
    sk,
    document(
      'goal',
      [
        { key: 'pause', type: 'DELAY', config: { amount: 1, unit: 'days' } },
        { key: 'mark', type: 'UPDATE_CONTACT', config: { data: { late: true } } },
      ],
      [
        ['trigger', 'pause'],
        ['pause', 'mark'],
      ],
    ),
  );
  await call('PATCH', `/workflows/${goal.id}`, sk, { exitOn: { events: ['record.reached'] }, enabled: true });
  cases.goal = goal.id as string;

  for (const name of Object.keys(cases)) await track(`record.${name}`, `${name}@record.test`, { firstName: name });
  const waiting = await execution(cases.steps!, 'WAITING');
  await track('record.paid', 'steps@record.test', { amount: 5 });
  const toCancel = await execution(cases.cancelled!, 'WAITING');
  await call('DELETE', `/workflows/${cases.cancelled}/executions/${toCancel.id}`, sk);
  await execution(cases.goal!, 'WAITING');
  await track('record.reached', 'goal@record.test');

  const expected: Record<string, { status: string; temporal: string }> = {
    steps: { status: 'EXITED', temporal: 'COMPLETED' },
    delay: { status: 'COMPLETED', temporal: 'COMPLETED' },
    'wait-timeout': { status: 'COMPLETED', temporal: 'COMPLETED' },
    cancelled: { status: 'CANCELLED', temporal: 'CANCELLED' },
    failed: { status: 'FAILED', temporal: 'FAILED' },
    'wait-until': { status: 'COMPLETED', temporal: 'COMPLETED' },
    retried: { status: 'COMPLETED', temporal: 'COMPLETED' },
    goal: { status: 'EXITED', temporal: 'COMPLETED' },
  };
  const runs: [string, string][] = [];
  for (const [name, wf] of Object.entries(cases)) {
    const exec = await execution(wf, expected[name]!.status);
    runs.push([name, exec.id]);
    if (name === 'steps' && exec.id !== waiting.id) throw new Error('steps: a second execution appeared');
  }
  const enrolled = await execution(started, 'COMPLETED');
  runs.push(['started', enrolled.id]);

  fs.mkdirSync(out, { recursive: true });
  for (const [name, id] of runs) {
    const handle = trellis.client.workflow.getHandle(`trellis-execution-${id}`);
    // The run's end reaches Temporal after the projection shows it: wait for Temporal's own status.
    const want = expected[name]?.temporal ?? 'COMPLETED';
    await until(`${name} closed in Temporal`, async () => ((await handle.describe()).status.name === want ? true : undefined));
    const history = await handle.fetchHistory();
    // Binary protobuf: exactly what the server sent, without a lossy JSON round trip (64-bit ids).
    fs.writeFileSync(path.join(out, `${name}.history.bin`), temporal.api.history.v1.History.encode(history).finish());
    console.info(`recorded ${label}/${name}.history.bin (${history.events?.length} events, ${want})`);
  }

  await trellis.close();
  await server.stop();
  hook.close();
  await scratch.drop();
  fs.rmSync(dir, { recursive: true, force: true });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
