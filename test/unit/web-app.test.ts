/** GET /app and below (SPEC §15): the built app's files, the page for every app path, and a clear 404 before a build. */
import fs from 'node:fs';
import type { Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorMiddleware } from '../../api/errors';
import { webApp } from '../../api/web-app';

const INDEX = '<!doctype html><title>Trellis</title><script type="module" src="/app/assets/main-ABC.js"></script>';

async function serve(folder: string): Promise<{ url: string; server: Server }> {
  const app = express();
  app.use(webApp(folder));
  app.use((_req, res) => res.status(418).end());
  app.use(errorMiddleware);
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const address = server.address() as { port: number };
  return { url: `http://127.0.0.1:${address.port}`, server };
}

describe('the web app routes', () => {
  let built: { url: string; server: Server };
  let unbuilt: { url: string; server: Server };
  let dir: string;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trellis-web-'));
    fs.mkdirSync(path.join(dir, 'built', 'assets'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'built', 'index.html'), INDEX);
    fs.writeFileSync(path.join(dir, 'built', 'assets', 'main-ABC.js'), 'console.log(1);');
    built = await serve(path.join(dir, 'built'));
    unbuilt = await serve(path.join(dir, 'missing'));
  });
  afterAll(() => {
    built?.server.close();
    unbuilt?.server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('answers the page, never cached, for /app and every path under it', async () => {
    for (const p of ['/app', '/app/', '/app/workflows', '/app/workflows/6b1f7d0e-8f3c-4d4c-9a57-0a1c9b1e2f30/executions/x']) {
      const res = await fetch(`${built.url}${p}`);
      expect([p, res.status, await res.text()]).toEqual([p, 200, INDEX]);
      expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(res.headers.get('cache-control')).toBe('no-cache');
      expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    }
  });

  it('serves hashed assets for good, and 404 for an unknown one', async () => {
    const res = await fetch(`${built.url}/app/assets/main-ABC.js`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('console.log(1);');
    expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const missing = await fetch(`${built.url}/app/assets/main-OLD.js`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: { code: 'NOT_FOUND', message: 'asset not found' } });
  });

  it('leaves other paths and methods to the API', async () => {
    expect((await fetch(`${built.url}/apps`)).status).toBe(418);
    expect((await fetch(`${built.url}/app/workflows`, { method: 'POST' })).status).toBe(418);
  });

  it('says how to build the app when it is not built', async () => {
    const res = await fetch(`${unbuilt.url}/app/workflows`);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: { code: 'NOT_FOUND', message: 'the web app is not built: run `npm run build`' } });
  });
});
