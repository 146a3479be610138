/** A real HTTP server in the test process that records requests and answers as the test says. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  json: any;
  /** When the request's body had arrived (ms since the epoch). */
  at: number;
}

export type Responder = (req: RecordedRequest) => { status: number; body?: unknown; headers?: Record<string, string> };

/** A request the server holds without answering. */
export interface HeldRequest {
  request: RecordedRequest;
  /** Resolves when the client closes the connection before an answer was sent. */
  dropped: Promise<void>;
  /** Answers it now (a no-op once the client is gone). */
  answer(status: number, body?: unknown): void;
}

export interface TestHttpServer {
  url: string;
  requests: RecordedRequest[];
  /** Sets how requests to `path` are answered (default: 200 `{ok: true}`). */
  on(path: string, responder: Responder): void;
  /** Holds the requests to `path` unanswered; resolves with the first one once it has arrived. */
  hold(path: string): Promise<HeldRequest>;
  /** Answers the requests to `path` again (after `hold`). */
  release(path: string): void;
  close(): Promise<void>;
}

export async function startHttpServer(): Promise<TestHttpServer> {
  const requests: RecordedRequest[] = [];
  const responders = new Map<string, Responder>();
  const holds = new Map<string, (held: HeldRequest) => void>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let json: unknown;
      try {
        json = body ? JSON.parse(body) : undefined;
      } catch {
        json = undefined;
      }
      const path = (req.url ?? '/').split('?')[0]!;
      const recorded = { method: req.method ?? 'GET', path, headers: req.headers, body, json, at: Date.now() };
      requests.push(recorded);
      const hold = holds.get(path);
      if (hold) {
        const dropped = new Promise<void>((resolve) => res.once('close', () => !res.writableEnded && resolve()));
        hold({
          request: recorded,
          dropped,
          answer: (status, body) => {
            if (res.destroyed) return;
            res.writeHead(status, { 'content-type': 'application/json' });
            res.end(body === undefined ? '' : JSON.stringify(body));
          },
        });
        return;
      }
      const answer: ReturnType<Responder> = (responders.get(path) ?? (() => ({ status: 200, body: { ok: true } })))(recorded);
      const payload = answer.body === undefined ? '' : typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
      res.writeHead(answer.status, { 'content-type': typeof answer.body === 'string' ? 'text/plain' : 'application/json', ...answer.headers });
      res.end(payload);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    on: (path, responder) => responders.set(path, responder),
    hold: (path) => new Promise<HeldRequest>((resolve) => holds.set(path, resolve)),
    release: (path) => holds.delete(path),
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}
