/**
 * GET /app and every path under it: the web app (SPEC §15), built by `npm run build` into dist/web.
 * Static files, not API endpoints, so they stay out of the OpenAPI document (like /docs/assets):
 * hashed assets are cached for good, and any other path under /app answers index.html, whose script
 * routes in the browser. The key never reaches the server: it travels in the URL's fragment.
 */
import fs from 'node:fs';
import path from 'node:path';
import express, { type Router } from 'express';
import type { LiveReload } from './live-reload';
import { ApiError, notFound } from './errors';

// Compiled, this file is dist/api/web-app.js next to dist/web; run from sources, the build is in dist/web.
const BUILT = path.basename(path.resolve(__dirname, '..')) === 'dist' ? path.resolve(__dirname, '..', 'web') : path.resolve(__dirname, '..', 'dist', 'web');

/** Server-sent events announcing a rebuild of the web app (only under `npm run dev`). */
export const LIVE_RELOAD_PATH = '/app/live-reload';

// Inline styles: the canvas positions its nodes with style attributes.
const CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'";

/**
 * Serves the built app from `folder`; before a build, /app answers 404 saying how to build it. With
 * `liveReload` (`npm run dev`), the page is told to reload itself after each rebuild of web/.
 */
export function webApp(folder = BUILT, liveReload?: LiveReload): Router {
  const router = express.Router();
  if (liveReload) router.get(LIVE_RELOAD_PATH, (req, res) => liveReload.subscribe(req, res));
  const assets = express.static(path.join(folder, 'assets'), { immutable: true, maxAge: '365d', index: false, fallthrough: false });
  router.use('/app/assets', (req, res, next) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    assets(req, res, (err?: unknown) => next(err && (err as { status?: number }).status === 404 ? notFound('asset') : err));
  });
  router.use('/app', (req, res, next) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    const index = path.join(folder, 'index.html');
    if (!fs.existsSync(index)) return next(new ApiError(404, 'NOT_FOUND', 'the web app is not built: run `npm run build`'));
    res.set({ 'Cache-Control': 'no-cache', 'Content-Security-Policy': CONTENT_SECURITY_POLICY, 'Referrer-Policy': 'no-referrer' });
    if (!liveReload) return res.sendFile(index);
    // The app's script finds this tag and listens for rebuilds (no inline script: the CSP forbids it).
    const html = fs.readFileSync(index, 'utf8').replace('</head>', `<meta name="trellis-live-reload" content="${LIVE_RELOAD_PATH}"></head>`);
    res.type('html').send(html);
  });
  return router;
}
