/**
 * Live reload of the web app under `npm run dev`: open pages hold a server-sent-events stream, and
 * each rebuild of web/ sends them `reload`.
 */
import type { Request, Response } from 'express';

export interface LiveReload {
  /** Holds the request open as an event stream until the page goes away. */
  subscribe(req: Request, res: Response): void;
  /** Tells every open page to reload. */
  announce(): void;
  /** Ends every stream (at shutdown, so the server can close). */
  close(): void;
}

export function createLiveReload(): LiveReload {
  const pages = new Set<Response>();
  return {
    subscribe(req, res) {
      res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive' });
      res.write(': connected\n\n');
      pages.add(res);
      req.on('close', () => pages.delete(res));
    },
    announce() {
      for (const res of pages) res.write('event: reload\ndata: {}\n\n');
    },
    close() {
      for (const res of pages) res.end();
      pages.clear();
    },
  };
}
