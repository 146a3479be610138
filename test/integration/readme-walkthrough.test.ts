/**
 * The README's walk-through, as a newcomer runs it: `npm run dev` as a child process (on its own
 * port, database, task queue and data folder), its printed keys, then the walk-through's shell
 * block taken from README.md and run with bash — the same curl commands, from the repository — and
 * their answers checked.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createScratchDatabase, type ScratchDatabase, serverOf } from '../../scripts/local-servers';
import { waitFor } from '../support/harness';
import { fileDatabaseUrl } from '../support/file-databases';

const ROOT = path.resolve(__dirname, '../..');
const README = path.join(ROOT, 'README.md');

/** The walk-through's commands, by numbered section (`# 1. …`), continuation lines joined. */
function walkThrough(): { setup: string; sections: { title: string; commands: string[] }[] } {
  const text = fs.readFileSync(README, 'utf8');
  const from = text.indexOf('### Walk-through');
  expect(from, 'the README has a walk-through').toBeGreaterThan(0);
  const block = /```sh\n([\s\S]*?)```/.exec(text.slice(from));
  expect(block, 'the walk-through has a sh block').not.toBeNull();
  const lines = block![1]!
    .replace(/\\\n\s*/g, '')
    .split('\n')
    .filter((l) => l.trim() !== '');
  const [setup, ...rest] = lines;
  const sections: { title: string; commands: string[] }[] = [];
  for (const line of rest) {
    if (line.startsWith('#')) sections.push({ title: line.replace(/^#\s*/, ''), commands: [] });
    else sections[sections.length - 1]!.commands.push(line);
  }
  return { setup: setup!, sections };
}

/** Runs `commands` with bash in the repository, each one's output separately; `vars` first. */
function runCommands(vars: Record<string, string>, commands: string[], print: string[] = []): string[] {
  const marker = '::walk-through::';
  const script = [
    'set -eo pipefail',
    ...Object.entries(vars).map(([k, v]) => `${k}='${v}'`),
    ...commands.flatMap((c) => [c, `printf '\\n${marker}\\n'`]),
    ...print.map((v) => `printf '%s\\n${marker}\\n' "$${v}"`),
  ].join('\n');
  const run = spawnSync('bash', ['-c', script], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  expect(run.status, run.stderr).toBe(0);
  return run.stdout
    .split(`\n${marker}\n`)
    .slice(0, commands.length + print.length)
    .map((s) => s.trim());
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

describe('the README walk-through against `npm run dev`', () => {
  let database: ScratchDatabase;
  let dataDir: string;
  let dev: ChildProcess;
  let output = '';
  let exited: Promise<void>;

  beforeAll(async () => {
    database = await createScratchDatabase(serverOf(fileDatabaseUrl()), 'trellis_dev_walkthrough');
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'trellis-dev-'));
    const port = await freePort();
    // Its own process group, so that stopping it reaches npm's children too.
    dev = spawn('npm', ['run', 'dev'], {
      cwd: ROOT,
      detached: true,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        DATABASE_URL: database.url,
        TEMPORAL_ADDRESS: inject('temporalAddress'),
        TEMPORAL_TASK_QUEUE: `dev-walkthrough-${process.pid}`,
        PORT: String(port),
        TRELLIS_DATA_DIR: dataDir,
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    dev.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    dev.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    exited = new Promise((resolve) => dev.once('exit', () => resolve()));
  });

  afterAll(async () => {
    if (dev?.pid !== undefined && dev.exitCode === null && dev.signalCode === null) {
      process.kill(-dev.pid, 'SIGTERM');
      const timer = setTimeout(() => process.kill(-dev.pid!, 'SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    }
    await database?.drop();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('creates, enables and runs the welcome series with the printed keys, as written', async () => {
    const died = exited.then(() => {
      throw new Error(`npm run dev exited:\n${output}`);
    });
    await Promise.race([waitFor(async () => /admin key\s+\S+/.test(output), 'npm run dev to print its keys', 120_000), died]);
    died.catch(() => undefined);
    const printed = (label: string) => new RegExp(`${label}\\s+(\\S+)`).exec(output)![1]!;
    const keys = { API: printed('API'), SK: printed('secret key'), PK: printed('public key') };
    expect(keys.SK).toMatch(/^sk_/);
    expect(keys.PK).toMatch(/^pk_/);
    expect(output).toContain('loaded (disabled) from examples/: ');

    const { setup, sections } = walkThrough();
    // The first line is where the reader puts the printed values.
    expect(setup).toBe('API=http://127.0.0.1:3000 SK=sk_… PK=pk_…');
    expect(sections.map((s) => s.title.slice(0, 3))).toEqual(['1. ', '2. ', '3. ', '4. ']);
    const [create, enable, track, look] = sections;

    // 1–3: create the workflow from examples/, enable it, track a sign-up.
    const [created, enabled, tracked, wf] = runCommands(keys, [...create!.commands, ...enable!.commands, ...track!.commands], ['WF']);
    expect(created).toBe('');
    expect(wf).toMatch(/^[0-9a-f-]{36}$/);
    expect(JSON.parse(enabled!)).toMatchObject({ id: wf, name: 'Welcome series', enabled: true, status: 'ACTIVE' });
    const trackedBody = JSON.parse(tracked!);
    expect(trackedBody).toMatchObject({ success: true, data: { contact: expect.any(String), event: expect.any(String) } });

    // The welcome email is captured and the run waits at the two-day delay.
    const auth = { authorization: `Bearer ${keys.SK}` };
    await waitFor(
      async () => {
        const r = (await (await fetch(`${keys.API}/workflows/${wf}/stats`, { headers: auth })).json()) as { executions: { WAITING: number } };
        return r.executions.WAITING === 1;
      },
      'the run to wait at the delay',
      60_000,
    );

    // 4: where contacts are, and the captured email.
    const [stats, diagram, emails] = runCommands({ ...keys, WF: wf! }, look!.commands);
    const statsBody = JSON.parse(stats!);
    expect(statsBody.executions).toEqual({ RUNNING: 0, WAITING: 1, COMPLETED: 0, EXITED: 0, FAILED: 0, CANCELLED: 0, total: 1 });
    expect(statsBody.steps.map((s: { key: string; active: number; entered: number; completed: number }) => [s.key, s.active, s.entered, s.completed])).toEqual([
      ['trigger', 0, 1, 1],
      ['send_welcome', 0, 1, 1],
      ['wait_2_days', 1, 1, 0],
      ['send_tips', 0, 0, 0],
      ['wait_5_days', 0, 0, 0],
      ['send_upgrade', 0, 0, 0],
    ]);
    expect(diagram!.split('\n').slice(0, 7)).toEqual([
      'flowchart TD',
      '  s0(["Trigger<br/><small>TRIGGER · 0 active · 1 visits</small>"])',
      '  s1["Send welcome<br/><small>SEND_EMAIL · 0 active · 1 visits</small>"]',
      '  s2["Wait 2 days<br/><small>DELAY · 1 active · 1 visits</small>"]',
      '  s3["Send tips<br/><small>SEND_EMAIL · 0 active · 0 visits</small>"]',
      '  s4["Wait 5 days<br/><small>DELAY · 0 active · 0 visits</small>"]',
      '  s5["Send upgrade nudge<br/><small>SEND_EMAIL · 0 active · 0 visits</small>"]',
    ]);
    const emailsBody = JSON.parse(emails!);
    expect(emailsBody.total).toBe(1);
    expect(emailsBody.data[0]).toMatchObject({ to: 'ada@example.com', subject: 'Welcome, Ada!', status: 'CAPTURED', contactId: trackedBody.data.contact });
  }, 240_000);
});
