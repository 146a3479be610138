import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  BlockedAddressError,
  HttpNetworkError,
  HttpTimeoutError,
  InvalidUrlError,
  MAX_BODY_BYTES,
  classifyResponse,
  createHttpClient,
  describeFailure,
  type LookupAll,
  type ResolvedAddress,
} from '../../activities/http';
import { isBlockedAddress } from '../../activities/address-guard';

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void;

const routes = new Map<string, Handler>();
const seen: Seen[] = [];
let connections = 0;
let server: http.Server;
let port: number;
let base: string;

function route(path: string, handler: Handler): void {
  routes.set(path, handler);
}

function json(res: http.ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(value));
}

function text(res: http.ServerResponse, status: number, value: string): void {
  res.writeHead(status, { 'content-type': 'text/plain' });
  res.end(value);
}

function redirect(res: http.ServerResponse, status: number, location: string): void {
  res.writeHead(status, { location });
  res.end();
}

/** A resolver that knows only the names it is given, and counts its calls. */
function fakeLookup(table: Record<string, string[]>): LookupAll & { calls: string[] } {
  const calls: string[] = [];
  const fn = async (hostname: string): Promise<ResolvedAddress[]> => {
    calls.push(hostname);
    const found = table[hostname];
    if (!found) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return found.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }) as ResolvedAddress);
  };
  return Object.assign(fn, { calls });
}

/** The production address policy, except that the test server's loopback address counts as public. */
const loopbackIsPublic = (ip: string): boolean => ip !== '127.0.0.1' && isBlockedAddress(ip);

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      const handler = routes.get(path);
      if (handler) handler(req, res, body);
      else text(res, 404, 'no such route');
    });
  });
  server.on('connection', () => {
    connections++;
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  base = `http://127.0.0.1:${port}`;

  route('/ok', (_req, res) => json(res, 200, { received: true, n: 1 }));
  route('/created-text', (_req, res) => text(res, 201, 'thanks'));
  route('/echo', (req, res, body) => json(res, 200, { method: req.method, body, contentType: req.headers['content-type'] ?? null }));
  route('/boom', (_req, res) => text(res, 500, '  internal\n\n   error\tin   handler  '));
  route('/missing', (_req, res) => json(res, 404, { error: 'not found' }));
  route('/slow-down', (_req, res) => {
    res.writeHead(429, { 'retry-after': '3', 'content-type': 'text/plain' });
    res.end('rate limited');
  });
  route('/hang', () => {
    // Never answers.
  });
  route('/hang-body', (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{"partial":');
  });
  route('/huge', (_req, res) => text(res, 200, 'x'.repeat(200 * 1024)));
  route('/exact', (_req, res) => {
    const value = JSON.stringify({ pad: 'y'.repeat(MAX_BODY_BYTES - 10) });
    text(res, 200, value);
  });
  route('/huge-json', (_req, res) => json(res, 200, { pad: 'z'.repeat(100 * 1024) }));
  route('/multi-header', (_req, res) => {
    res.setHeader('set-cookie', ['a=1', 'b=2']);
    res.setHeader('x-trace', 'abc');
    res.end('');
  });
  route('/r/302', (_req, res) => redirect(res, 302, '/echo'));
  route('/r/303', (_req, res) => redirect(res, 303, '/echo'));
  route('/r/307', (_req, res) => redirect(res, 307, '/echo'));
  route('/r/308', (_req, res) => redirect(res, 308, `${base}/echo`));
  route('/r/chain', (_req, res) => redirect(res, 301, '/r/302'));
  route('/r/loop', (_req, res) => redirect(res, 302, '/r/loop'));
  route('/r/no-location', (_req, res) => {
    res.writeHead(302);
    res.end();
  });
  route('/r/private', (_req, res) => redirect(res, 302, 'http://10.0.0.1/internal'));
  route('/r/metadata-name', (_req, res) => redirect(res, 302, 'http://metadata.test/latest/meta-data/'));
  route('/r/ftp', (_req, res) => redirect(res, 302, 'ftp://example.com/file'));
  route('/r/other-origin', (_req, res) => redirect(res, 307, `http://other.test:${port}/echo-headers`));
  route('/echo-headers', (req, res) => json(res, 200, req.headers));
});

afterEach(() => {
  seen.length = 0;
  connections = 0;
  server.closeAllConnections();
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const open = () => createHttpClient({ allowPrivate: true });

describe('classifyResponse', () => {
  it('continues on 2xx', () => {
    for (const s of [200, 201, 202, 204, 299]) expect(classifyResponse(s)).toBe('ok');
  });
  it('retries 5xx, 408 and 429', () => {
    for (const s of [500, 502, 503, 504, 599, 408, 429]) expect(classifyResponse(s)).toBe('retry');
  });
  it('fails other 4xx, unfollowed 3xx and oddities', () => {
    for (const s of [400, 401, 403, 404, 409, 410, 422, 301, 302, 304, 100, 0, 600, 999]) {
      expect(classifyResponse(s)).toBe('fail');
    }
  });
});

describe('describeFailure', () => {
  it('names the status and the whitespace-collapsed start of the body', () => {
    const r = { status: 500, ok: false, body: '  internal\n\n error  ', json: undefined, headers: {} };
    expect(describeFailure(r)).toBe('HTTP 500: internal error');
  });
  it('keeps at most 200 characters of the body', () => {
    const r = { status: 502, ok: false, body: 'a'.repeat(1000), json: undefined, headers: {} };
    expect(describeFailure(r)).toBe(`HTTP 502: ${'a'.repeat(200)}`);
  });
  it('names only the status when the body is empty', () => {
    expect(describeFailure({ status: 404, ok: false, body: ' \n', json: undefined, headers: {} })).toBe('HTTP 404');
  });
});

describe('isBlockedAddress', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['::1', 'v6 loopback'],
    ['0.0.0.0', 'unspecified'],
    ['::', 'v6 unspecified'],
    ['10.0.0.1', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.0.1', 'link-local'],
    ['169.254.169.254', 'AWS/GCP/Azure metadata'],
    ['100.100.100.200', 'Alibaba metadata'],
    ['100.64.0.1', 'carrier-grade NAT'],
    ['fe80::1', 'v6 link-local'],
    ['fe80::1%eth0', 'v6 link-local with zone'],
    ['fc00::1', 'unique local'],
    ['fd12:3456::1', 'unique local'],
    ['fd00:ec2::254', 'AWS v6 metadata'],
    ['255.255.255.255', 'broadcast'],
    ['224.0.0.1', 'multicast'],
    ['ff02::1', 'v6 multicast'],
    ['240.0.0.1', 'reserved'],
    ['192.0.2.1', 'documentation'],
    ['::ffff:127.0.0.1', 'IPv4-mapped loopback'],
    ['::ffff:7f00:1', 'IPv4-mapped loopback, hex form'],
    ['::ffff:10.0.0.1', 'IPv4-mapped private'],
    ['::ffff:169.254.169.254', 'IPv4-mapped metadata'],
    ['::127.0.0.1', 'IPv4-compatible loopback'],
    ['64:ff9b::a00:1', 'NAT64 of a private address'],
    ['2002:7f00:1::1', '6to4 of loopback'],
    ['2001:db8::1', 'v6 documentation'],
    ['[::1]', 'bracketed v6 loopback'],
    ['not-an-ip', 'garbage'],
    ['', 'empty'],
    ['localhost', 'a hostname, not an address'],
  ])('refuses %s (%s)', (ip) => {
    expect(isBlockedAddress(ip)).toBe(true);
  });

  it.each([
    ['93.184.216.34'],
    ['8.8.8.8'],
    ['1.1.1.1'],
    ['172.32.0.1'],
    ['100.128.0.1'],
    ['169.253.255.255'],
    ['2606:4700:4700::1111'],
    ['2a00:1450:4001:830::200e'],
    ['::ffff:93.184.216.34'],
  ])('allows public %s', (ip) => {
    expect(isBlockedAddress(ip)).toBe(false);
  });
});

describe('createHttpClient: responses', () => {
  it('returns a 2xx with its JSON parsed', async () => {
    const r = await open().request({ url: `${base}/ok`, method: 'POST', headers: {}, body: '{"a":1}' });
    expect(r.status).toBe(200);
    expect(r.ok).toBe(true);
    expect(r.json).toEqual({ received: true, n: 1 });
    expect(r.headers['content-type']).toBe('application/json');
    expect(classifyResponse(r.status)).toBe('ok');
  });

  it('sends the method, headers and body', async () => {
    const r = await open().request({
      url: `${base}/echo?x=1`,
      method: 'put',
      headers: { 'Content-Type': 'application/json', 'X-Trellis': 'yes' },
      body: '{"héllo":"wörld"}',
    });
    expect(r.json).toEqual({ method: 'PUT', body: '{"héllo":"wörld"}', contentType: 'application/json' });
    expect(seen[0]!.url).toBe('/echo?x=1');
    expect(seen[0]!.headers['x-trellis']).toBe('yes');
    expect(seen[0]!.headers['content-length']).toBe(String(Buffer.byteLength('{"héllo":"wörld"}')));
  });

  it('leaves json undefined for a non-JSON body', async () => {
    const r = await open().request({ url: `${base}/created-text`, method: 'GET', headers: {} });
    expect(r).toMatchObject({ status: 201, ok: true, body: 'thanks', json: undefined });
  });

  it('returns a 500 to be retried', async () => {
    const r = await open().request({ url: `${base}/boom`, method: 'POST', headers: {}, body: '{}' });
    expect(r.status).toBe(500);
    expect(r.ok).toBe(false);
    expect(classifyResponse(r.status)).toBe('retry');
    expect(describeFailure(r)).toBe('HTTP 500: internal error in handler');
  });

  it('returns a 404 that fails at once, with its JSON', async () => {
    const r = await open().request({ url: `${base}/missing`, method: 'GET', headers: {} });
    expect(r.status).toBe(404);
    expect(r.json).toEqual({ error: 'not found' });
    expect(classifyResponse(r.status)).toBe('fail');
  });

  it('returns a 429 to be retried, with its headers', async () => {
    const r = await open().request({ url: `${base}/slow-down`, method: 'POST', headers: {} });
    expect(r.status).toBe(429);
    expect(r.headers['retry-after']).toBe('3');
    expect(classifyResponse(r.status)).toBe('retry');
  });

  it('joins repeated response headers', async () => {
    const r = await open().request({ url: `${base}/multi-header`, method: 'GET', headers: {} });
    expect(r.headers['set-cookie']).toBe('a=1, b=2');
    expect(r.headers['x-trace']).toBe('abc');
  });

  it('keeps at most 64 KB of the body and does not parse a cut JSON', async () => {
    const r = await open().request({ url: `${base}/huge`, method: 'GET', headers: {} });
    expect(r.status).toBe(200);
    expect(Buffer.byteLength(r.body)).toBe(MAX_BODY_BYTES);
    expect(MAX_BODY_BYTES).toBe(64 * 1024);

    const j = await open().request({ url: `${base}/huge-json`, method: 'GET', headers: {} });
    expect(j.body.length).toBe(MAX_BODY_BYTES);
    expect(j.json).toBeUndefined();
  });

  it('parses a JSON body that fits in 64 KB exactly', async () => {
    const r = await open().request({ url: `${base}/exact`, method: 'GET', headers: {} });
    expect(r.body.length).toBe(MAX_BODY_BYTES);
    expect(r.json).toMatchObject({ pad: expect.any(String) });
  });
});

describe('createHttpClient: invalid URLs', () => {
  it.each(['not a url', '/relative/path', 'ftp://example.com/x', 'file:///etc/passwd', 'javascript:alert(1)'])('refuses %s without retrying', async (url) => {
    const err = await open()
      .request({ url, method: 'GET', headers: {} })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidUrlError);
    expect((err as InvalidUrlError).retryable).toBe(false);
  });
});

describe('createHttpClient: private addresses', () => {
  it('refuses loopback when private addresses are not allowed, before connecting', async () => {
    const client = createHttpClient({ allowPrivate: false });
    const err = await client.request({ url: `${base}/ok`, method: 'POST', headers: {} }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BlockedAddressError);
    expect((err as BlockedAddressError).retryable).toBe(false);
    expect((err as Error).message).toBe('webhook address 127.0.0.1 (127.0.0.1) is private; set WEBHOOK_ALLOW_PRIVATE=true to allow it');
    expect(seen).toHaveLength(0);
    expect(connections).toBe(0);
  });

  it('refuses localhost by name, naming host and address', async () => {
    const lookup = fakeLookup({ localhost: ['127.0.0.1'] });
    const client = createHttpClient({ allowPrivate: false, lookup });
    const err = await client.request({ url: `http://localhost:${port}/ok`, method: 'GET', headers: {} }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BlockedAddressError);
    expect((err as Error).message).toBe('webhook address 127.0.0.1 (localhost) is private; set WEBHOOK_ALLOW_PRIVATE=true to allow it');
    expect(err).toMatchObject({ host: 'localhost', address: '127.0.0.1' });
    expect(connections).toBe(0);
  });

  it('refuses the real resolver answer for localhost', async () => {
    const client = createHttpClient({ allowPrivate: false });
    const err = await client.request({ url: `http://localhost:${port}/ok`, method: 'GET', headers: {} }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BlockedAddressError);
    expect(connections).toBe(0);
  });

  it('refuses IPv6 and obfuscated IPv4 literals', async () => {
    const client = createHttpClient({ allowPrivate: false });
    for (const url of [
      `http://[::1]:${port}/ok`,
      `http://[::ffff:127.0.0.1]:${port}/ok`,
      `http://0x7f.1:${port}/ok`,
      `http://2130706433:${port}/ok`,
      `http://0177.0.0.1:${port}/ok`,
    ]) {
      await expect(client.request({ url, method: 'GET', headers: {} }), url).rejects.toBeInstanceOf(BlockedAddressError);
    }
    expect(connections).toBe(0);
  });

  it.each([['10.0.0.1'], ['169.254.169.254'], ['::ffff:127.0.0.1'], ['fd00:ec2::254'], ['100.100.100.200']])(
    'refuses a hostname that resolves to %s',
    async (address) => {
      const lookup = fakeLookup({ 'hooks.example.test': [address] });
      const client = createHttpClient({ allowPrivate: false, lookup });
      const err = await client.request({ url: 'http://hooks.example.test/hook', method: 'POST', headers: {}, body: '{}' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BlockedAddressError);
      expect((err as Error).message).toContain(`${address} (hooks.example.test)`);
      expect(lookup.calls).toEqual(['hooks.example.test']);
    },
  );

  it('refuses a hostname when any of its addresses is private', async () => {
    const lookup = fakeLookup({ 'mixed.test': ['93.184.216.34', '10.1.2.3'] });
    const client = createHttpClient({ allowPrivate: false, lookup });
    await expect(client.request({ url: 'https://mixed.test/', method: 'GET', headers: {} })).rejects.toMatchObject({
      name: 'BlockedAddressError',
      address: '10.1.2.3',
      host: 'mixed.test',
    });
  });

  it('allows loopback when private addresses are allowed', async () => {
    const r = await createHttpClient({ allowPrivate: true }).request({ url: `${base}/ok`, method: 'GET', headers: {} });
    expect(r.status).toBe(200);
    expect(seen).toHaveLength(1);
  });

  it('connects to the address it resolved, keeping the original Host', async () => {
    const lookup = fakeLookup({ 'hooks.example.test': ['127.0.0.1'] });
    const client = createHttpClient({ allowPrivate: true, lookup });
    const r = await client.request({
      url: `http://hooks.example.test:${port}/echo-headers`,
      method: 'GET',
      headers: { Host: 'evil.internal' },
    });
    expect(r.status).toBe(200);
    expect((r.json as Record<string, string>).host).toBe(`hooks.example.test:${port}`);
    expect(lookup.calls).toEqual(['hooks.example.test']);
  });

  it('resolves once per hop, so a second DNS answer cannot change the target', async () => {
    let calls = 0;
    const rebinding: LookupAll = async () => {
      calls++;
      return [{ address: calls === 1 ? '127.0.0.1' : '10.0.0.1', family: 4 }];
    };
    const client = createHttpClient({ allowPrivate: false, lookup: rebinding, isBlocked: loopbackIsPublic });
    const r = await client.request({ url: `http://rebind.test:${port}/ok`, method: 'GET', headers: {} });
    expect(r.status).toBe(200);
    expect(calls).toBe(1);
  });
});

describe('createHttpClient: redirects', () => {
  it('turns a POST into a GET without body on 302', async () => {
    const r = await open().request({
      url: `${base}/r/302`,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"a":1}',
    });
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ method: 'GET', body: '', contentType: null });
  });

  it('turns a PUT into a GET on 303', async () => {
    const r = await open().request({ url: `${base}/r/303`, method: 'PUT', headers: {}, body: 'x' });
    expect(r.json).toEqual({ method: 'GET', body: '', contentType: null });
  });

  it('keeps method and body on 307 and 308', async () => {
    for (const path of ['/r/307', '/r/308']) {
      const r = await open().request({
        url: `${base}${path}`,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"a":1}',
      });
      expect(r.json).toEqual({ method: 'POST', body: '{"a":1}', contentType: 'application/json' });
    }
  });

  it('follows a chain of redirects', async () => {
    const r = await open().request({ url: `${base}/r/chain`, method: 'GET', headers: {} });
    expect(r.status).toBe(200);
    expect(seen.map((s) => s.url)).toEqual(['/r/chain', '/r/302', '/echo']);
  });

  it('returns the 3xx as a failure once maxRedirects is reached', async () => {
    const client = createHttpClient({ allowPrivate: true, maxRedirects: 3 });
    const r = await client.request({ url: `${base}/r/loop`, method: 'GET', headers: {} });
    expect(r.status).toBe(302);
    expect(classifyResponse(r.status)).toBe('fail');
    expect(seen).toHaveLength(4);
  });

  it('returns a 3xx without Location as a failure', async () => {
    const r = await open().request({ url: `${base}/r/no-location`, method: 'GET', headers: {} });
    expect(r.status).toBe(302);
    expect(classifyResponse(r.status)).toBe('fail');
  });

  it('refuses a redirect to a non-http scheme', async () => {
    await expect(open().request({ url: `${base}/r/ftp`, method: 'GET', headers: {} })).rejects.toBeInstanceOf(InvalidUrlError);
  });

  it('drops credentials when redirected to another origin', async () => {
    const lookup = fakeLookup({ 'other.test': ['127.0.0.1'] });
    const client = createHttpClient({ allowPrivate: true, lookup });
    const r = await client.request({
      url: `${base}/r/other-origin`,
      method: 'GET',
      headers: { Authorization: 'Bearer secret', 'X-Keep': 'me' },
    });
    const got = r.json as Record<string, string>;
    expect(got.host).toBe(`other.test:${port}`);
    expect(got.authorization).toBeUndefined();
    expect(got['x-keep']).toBe('me');
    expect(seen[0]!.headers.authorization).toBe('Bearer secret');
  });

  it('re-checks the address of a redirect to a private IP', async () => {
    const lookup = fakeLookup({ 'public.test': ['127.0.0.1'] });
    const client = createHttpClient({ allowPrivate: false, lookup, isBlocked: loopbackIsPublic });
    const err = await client.request({ url: `http://public.test:${port}/r/private`, method: 'POST', headers: {}, body: '{}' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BlockedAddressError);
    expect((err as Error).message).toContain('10.0.0.1 (10.0.0.1)');
    expect(seen.map((s) => s.url)).toEqual(['/r/private']);
  });

  it('re-checks the address of a redirect to a name that resolves to metadata', async () => {
    const lookup = fakeLookup({ 'public.test': ['127.0.0.1'], 'metadata.test': ['169.254.169.254'] });
    const client = createHttpClient({ allowPrivate: false, lookup, isBlocked: loopbackIsPublic });
    const err = await client.request({ url: `http://public.test:${port}/r/metadata-name`, method: 'GET', headers: {} }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BlockedAddressError);
    expect(err).toMatchObject({ host: 'metadata.test', address: '169.254.169.254' });
    expect(lookup.calls).toEqual(['public.test', 'metadata.test']);
  });

  it('applies no address policy when private addresses are allowed', async () => {
    const client = createHttpClient({ allowPrivate: true, isBlocked: () => true });
    const r = await client.request({ url: `${base}/ok`, method: 'GET', headers: {} });
    expect(r.status).toBe(200);
  });
});

describe('createHttpClient: timeouts and network errors', () => {
  it('times out a server that never answers', async () => {
    const client = createHttpClient({ allowPrivate: true, timeoutMs: 200 });
    const started = Date.now();
    const err = await client.request({ url: `${base}/hang`, method: 'POST', headers: {} }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HttpTimeoutError);
    expect((err as HttpTimeoutError).retryable).toBe(true);
    expect((err as Error).message).toBe('webhook request timed out after 200 ms');
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('times out a body that never ends', async () => {
    const client = createHttpClient({ allowPrivate: true, timeoutMs: 200 });
    await expect(client.request({ url: `${base}/hang-body`, method: 'GET', headers: {} })).rejects.toBeInstanceOf(HttpTimeoutError);
  });

  it('times out a resolver that never answers', async () => {
    const client = createHttpClient({ allowPrivate: true, timeoutMs: 100, lookup: () => new Promise(() => {}) });
    await expect(client.request({ url: 'http://slow-dns.test/', method: 'GET', headers: {} })).rejects.toBeInstanceOf(HttpTimeoutError);
  });

  it('says "10 s" for the default timeout', () => {
    expect(new HttpTimeoutError(10_000).message).toBe('webhook request timed out after 10 s');
  });

  it('reports a refused connection as a retryable network error', async () => {
    const spare = http.createServer();
    await new Promise<void>((resolve) => spare.listen(0, '127.0.0.1', resolve));
    const closedPort = (spare.address() as AddressInfo).port;
    await new Promise<void>((resolve) => spare.close(() => resolve()));

    const err = await open()
      .request({ url: `http://127.0.0.1:${closedPort}/`, method: 'POST', headers: {} })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HttpNetworkError);
    expect((err as HttpNetworkError).retryable).toBe(true);
    expect((err as HttpNetworkError).code).toBe('ECONNREFUSED');
    expect((err as Error).message).toContain('ECONNREFUSED');
  });

  it('reports a name that does not resolve as a retryable network error', async () => {
    const client = createHttpClient({ allowPrivate: false, lookup: fakeLookup({}) });
    const err = await client.request({ url: 'http://nowhere.test/', method: 'GET', headers: {} }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HttpNetworkError);
    expect((err as HttpNetworkError).retryable).toBe(true);
    expect((err as Error).message).toContain('nowhere.test');
  });

  it('reports a connection dropped mid-response as a network error', async () => {
    route('/drop', (req) => req.socket.destroy());
    await expect(open().request({ url: `${base}/drop`, method: 'GET', headers: {} })).rejects.toBeInstanceOf(HttpNetworkError);
  });
});
