/**
 * P5 (issue 7): `/v1/track` requests per second when no workflow matches the event (the contact is
 * upserted, the event stored, segments and EVENT workflows looked up), each request a new contact's
 * first event (then the same requests again, for existing contacts, without a goal), against a bare Express
 * endpoint that stores the same thing with one INSERT statement (the contact upserted in a CTE, the
 * event inserted), at the same concurrency on the same Postgres. Goal ≥ 0.7×.
 *
 *   npm run bench:p5     (BENCH_N=3000, BENCH_CONCURRENCY=20, BENCH_ROUNDS=3; BENCH_VERBOSE=1 prints each round's CPU by process)
 */
import type net from 'node:net';
import express from 'express';
import { openDatabase } from '../db/client';
import { cpuByProcess, cpuSince, load, median, postJson, runBench, startBench } from './support';

const N = Number(process.env.BENCH_N ?? 3000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 20);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const GOAL = 0.7;

async function main(): Promise<void> {
  // The rate limit is not what is measured here.
  const bench = await startBench('p5', { RATE_LIMIT_TRACK_PER_SECOND: '1000000' });
  const project = await bench.api('POST', '/admin/projects', 'bench', { name: 'p5' });
  // A workflow on another event: the lookup runs and finds nothing.
  const wf = await bench.api('POST', '/workflows', project.secretKey, { name: 'p5', eventName: 'other' });
  await bench.api('PATCH', `/workflows/${wf.id}`, project.secretKey, { enabled: true });

  const database = openDatabase(bench.scratch.url);
  const bare = express();
  bare.use(express.json());
  bare.post('/track', async (req, res) => {
    const { event, email, data } = req.body as { event: string; email: string; data: Record<string, unknown> };
    const { rows } = await database.pool.query<{ id: string }>(
      `with contact as (
         insert into contacts (project_id, email, data) values ($1, $2, $3)
         on conflict (project_id, email) do update set data = contacts.data || excluded.data, updated_at = now()
         returning id)
       insert into events (project_id, contact_id, name, data) select $1, contact.id, $4, $3 from contact returning id`,
      [project.id, email, data, event],
    );
    res.json({ success: true, data: { event: rows[0]!.id } });
  });
  const server = await new Promise<import('node:http').Server>((r) => {
    const s = bare.listen(0, '127.0.0.1', () => r(s));
  });
  const bareUrl = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/track`;

  const post = postJson;

  async function round(url: string, key: string | undefined, tag: string): Promise<number> {
    const t0 = performance.now();
    const cpu0 = cpuByProcess();
    await load(N, CONCURRENCY, (i) => post(url, key, { event: 'p5', email: `${tag}-${i}@bench.test`, data: { plan: 'pro', seen: i } }));
    const perSecond = N / ((performance.now() - t0) / 1000);
    if (process.env.BENCH_VERBOSE) console.log(`  round ${tag}: ${perSecond.toFixed(0)} requests/s; ${cpuSince(cpu0)}`);
    return perSecond;
  }

  console.log(`P5: ${N} requests per round at concurrency ${CONCURRENCY}, ${ROUNDS} rounds (warming up)`);
  await round(bareUrl, undefined, 'bw');
  await round(`${bench.trellis.url}/v1/track`, project.publicKey, 'tw');
  /** ROUNDS rounds of each, alternating, on the emails b1…, t1…: each round's figure and the medians. */
  async function compare() {
    const base: number[] = [];
    const ours: number[] = [];
    for (let r = 1; r <= ROUNDS; r++) {
      base.push(await round(bareUrl, undefined, `b${r}`));
      ours.push(await round(`${bench.trellis.url}/v1/track`, project.publicKey, `t${r}`));
    }
    const list = (xs: number[]) => xs.map((x) => x.toFixed(0)).join(', ');
    return { b: median(base), t: median(ours), baseRounds: list(base), ourRounds: list(ours) };
  }

  const first = await compare();
  console.log(`P5 baseline (bare Express endpoint, one INSERT): ${first.b.toFixed(0)} requests/s  [rounds: ${first.baseRounds}]`);
  console.log(`P5 Trellis (/v1/track, no matching workflow):     ${first.t.toFixed(0)} requests/s  [rounds: ${first.ourRounds}]`);
  console.log(`P5 ratio Trellis / baseline: ${(first.t / first.b).toFixed(2)} (goal ≥ ${GOAL})`);

  // Beside it, no goal: the same requests again, so every contact exists (its data merged, the
  // event stored in /v1/track's transaction; the bare endpoint's upsert takes its conflict branch).
  const again = await compare();
  console.log(
    `P5 existing contacts: baseline ${again.b.toFixed(0)} requests/s [${again.baseRounds}], ` +
      `Trellis ${again.t.toFixed(0)} requests/s [${again.ourRounds}]: ratio ${(again.t / again.b).toFixed(2)}`,
  );

  server.close();
  await database.close();
  await bench.close();
}

runBench(main);
