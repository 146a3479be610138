/**
 * Builds the web app (web/, SPEC §15) with esbuild into one folder the API serves at /app: hashed
 * script and style files under assets/, and an index.html that loads them. `npm run build` builds it
 * once; `npm run dev` keeps rebuilding it on change.
 */
import fs from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import * as esbuild from 'esbuild';
import { endpoints } from '../api/contracts';
import { type Endpoint, isJsonResponse } from '../api/endpoint';

/** The folder `npm run build` writes the app to, and where a Trellis run from sources serves it from. */
export const WEB_OUT = path.resolve(__dirname, '..', 'dist', 'web');
const ENTRY = path.resolve(__dirname, '..', 'web', 'src', 'main.tsx');

export interface WebBuild {
  /** The files of the page (relative to the output folder), script first. */
  files: string[];
  /** The page's JavaScript, gzipped: what a first visit downloads before it can run. */
  initialScriptGzipBytes: number;
}

function options(outdir: string, onBuilt: (build: WebBuild) => void): esbuild.BuildOptions {
  return {
    entryPoints: [ENTRY],
    bundle: true,
    format: 'esm',
    target: 'es2022',
    platform: 'browser',
    minify: true,
    sourcemap: 'linked',
    jsx: 'automatic',
    outdir: path.join(outdir, 'assets'),
    entryNames: '[name]-[hash]',
    assetNames: '[name]-[hash]',
    metafile: true,
    logLevel: 'warning',
    define: { 'process.env.NODE_ENV': '"production"' },
    plugins: [
      contractsTable,
      {
        name: 'index-html',
        setup(build) {
          build.onEnd((result) => {
            if (result.errors.length || !result.metafile) return;
            onBuilt(writeIndex(outdir, Object.keys(result.metafile.outputs)));
          });
        },
      },
    ],
  };
}

/**
 * The typed client (api/client.ts) needs of each declaration only its method, path, key, whether it
 * has a body and how each status answers — not the zod schemas, which would triple the app's size.
 * So the browser build swaps the client's `./contracts` import for that table, made from the same
 * declarations at build time (a JSON response is marked as a schema for `isJsonResponse`).
 */
const contractsTable: esbuild.Plugin = {
  name: 'contracts-table',
  setup(build) {
    const clientFile = path.resolve(__dirname, '..', 'api', 'client.ts');
    build.onResolve({ filter: /^\.\/contracts$/ }, (args) => (args.importer === clientFile ? { path: 'contracts-table', namespace: 'trellis' } : undefined));
    build.onLoad({ filter: /.*/, namespace: 'trellis' }, () => {
      const table = Object.fromEntries(
        (Object.entries(endpoints) as [string, Endpoint][]).map(([name, e]) => [
          name,
          {
            method: e.method,
            path: e.path,
            auth: e.auth,
            body: e.body ? true : undefined,
            responses: Object.fromEntries(Object.entries(e.responses).map(([status, spec]) => [status, isJsonResponse(spec) ? { _zod: {} } : spec])),
          },
        ]),
      );
      return { contents: `export const endpoints = ${JSON.stringify(table)};`, loader: 'js' };
    });
  },
};

/** Writes index.html for the built files and removes the files of earlier builds. */
function writeIndex(outdir: string, outputs: string[]): WebBuild {
  const rel = outputs.map((o) => path.relative(outdir, path.resolve(o)).split(path.sep).join('/'));
  const script = rel.find((f) => f.endsWith('.js'))!;
  const style = rel.find((f) => f.endsWith('.css'));
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Trellis</title>
${style ? `<link rel="stylesheet" href="/app/${style}">\n` : ''}<script type="module" src="/app/${script}"></script>
</head>
<body>
<div id="root"></div>
</body>
</html>
`;
  fs.writeFileSync(path.join(outdir, 'index.html'), html);
  const keep = new Set(rel.map((f) => path.basename(f)));
  for (const file of fs.readdirSync(path.join(outdir, 'assets'))) if (!keep.has(file)) fs.rmSync(path.join(outdir, 'assets', file));
  const initialScriptGzipBytes = gzipSync(fs.readFileSync(path.join(outdir, script))).length;
  return { files: [script, ...(style ? [style] : [])], initialScriptGzipBytes };
}

/** Builds the app once into `outdir`. */
export async function buildWebApp(outdir = WEB_OUT): Promise<WebBuild> {
  fs.mkdirSync(path.join(outdir, 'assets'), { recursive: true });
  let built: WebBuild | undefined;
  await esbuild.build(options(outdir, (b) => (built = b)));
  return built!;
}

/** Builds the app into `outdir` and again on every change of its sources; answers a stop function. */
export async function watchWebApp(outdir: string, onBuilt: (build: WebBuild) => void): Promise<() => Promise<void>> {
  fs.mkdirSync(path.join(outdir, 'assets'), { recursive: true });
  const context = await esbuild.context(options(outdir, onBuilt));
  await context.watch();
  return () => context.dispose();
}

/** "412 KB" for a byte count. */
export function kilobytes(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KB`;
}
