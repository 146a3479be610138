/**
 * `npm run fuzz` (or `npx tsx scripts/fuzz-api.ts [-- schemathesis options]`): runs Schemathesis
 * (`pip install schemathesis`) against a throwaway Trellis — its own Temporal dev server and scratch
 * database, a project's secret key for every route but the admin ones (the admin key for those) —
 * with the response check on, so that an answer breaking its declaration is a 500 the fuzzer
 * reports and is listed at the end.
 * Extra arguments go to `schemathesis run` (e.g. `--max-examples 50`, `--phases coverage`).
 * Exits non-zero when Schemathesis finds a failure or the response check recorded a violation.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../app/config';
import { startTrellis } from '../app/trellis';
import { createScratchDatabase, startTemporalDevServer } from './local-servers';

const PG_BASE = process.env.TRELLIS_TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432';
const ADMIN_KEY = 'fuzz-admin-key';

async function main(): Promise<number> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trellis-fuzz-'));
  const database = await createScratchDatabase(PG_BASE, 'trellis_fuzz');
  const temporal = await startTemporalDevServer({ dbFilename: path.join(dir, 'temporal.db'), sqlite: 'fast' });
  const config = loadConfig({
    DATABASE_URL: database.url,
    TEMPORAL_ADDRESS: temporal.address,
    TEMPORAL_TASK_QUEUE: 'trellis-fuzz',
    HOST: '127.0.0.1',
    PORT: '0',
    ADMIN_API_KEY: ADMIN_KEY,
    LOG_LEVEL: 'warn',
  });
  const trellis = await startTrellis(config, { checkResponses: true });
  try {
    const url = trellis.url!;
    const created = await fetch(`${url}/admin/projects`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'fuzz' }),
    });
    const { secretKey } = (await created.json()) as { secretKey: string };
    // Every check but positive_data_acceptance: requests that fit the schemas may still break a rule
    // the schemas cannot say (graph rules, a template of another project, a disabled workflow), and
    // those answer 400 by design. Two passes: the admin routes with the admin key, the rest with the
    // project's secret key.
    const common = ['run', `${url}/openapi.json`, '--url', url, '--checks', 'all', '--exclude-checks', 'positive_data_acceptance', ...process.argv.slice(2)];
    const passes = [
      { key: secretKey, shown: 'sk_…', only: ['--exclude-path-regex', '^/admin/'] },
      { key: ADMIN_KEY, shown: ADMIN_KEY, only: ['--include-path-regex', '^/admin/'] },
    ];
    let code = 0;
    for (const pass of passes) {
      const args = [...common, '-H', `Authorization: Bearer ${pass.key}`, ...pass.only];
      console.info(`schemathesis ${args.join(' ').replace(pass.key, pass.shown)}`);
      code ||= await schemathesis(args, dir);
    }
    if (trellis.responseViolations.length) {
      console.error(`\n${trellis.responseViolations.length} answer(s) broke their declarations:\n${trellis.responseViolations.join('\n')}`);
      return code || 1;
    }
    console.info('\nresponse check: every answer matched its declaration');
    return code;
  } finally {
    await trellis.close();
    await temporal.stop();
    await database.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs `schemathesis` with `args` in `cwd`; its exit code (127 when it is not installed). */
function schemathesis(args: string[], cwd: string): Promise<number> {
  return new Promise<number>((resolve) => {
    const child = spawn('schemathesis', args, { stdio: 'inherit', cwd });
    child.once('error', (err) => {
      console.error(`cannot run schemathesis (pip install schemathesis): ${err.message}`);
      resolve(127);
    });
    child.once('exit', (c) => resolve(c ?? 1));
  });
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
