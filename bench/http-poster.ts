/**
 * The benches' HTTP client for JSON POSTs, in a module of its own: a baseline's worker process loads
 * it without Trellis's code (bench/support.ts brings the whole API along).
 */
import http from 'node:http';

/**
 * POSTs JSON (with a bearer key when given) over node:http through `agent`: one kept-alive connection
 * (keepAlivePoster), or a connection of its own per request (`false`, as Trellis's webhook client
 * makes its calls). Resolves once a 200 answer has been read; rejects on any other.
 */
export function httpPoster(agent: http.Agent | false): (url: string, key: string | undefined, body: unknown) => Promise<void> {
  return (url, key, body) =>
    new Promise((resolve, reject) => {
      const req = http.request(
        url,
        { method: 'POST', agent, headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) } },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (text += chunk));
          res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`${url}: ${res.statusCode} ${text}`))));
        },
      );
      req.on('error', reject);
      req.end(JSON.stringify(body));
    });
}

/**
 * POSTs over one kept-alive connection: a client whose own cost (fetch's is about half a millisecond
 * more a request) stays out of a latency measured against Temporal's native client.
 */
export function keepAlivePoster(): (url: string, key: string | undefined, body: unknown) => Promise<void> {
  return httpPoster(new http.Agent({ keepAlive: true, maxSockets: 1 }));
}
