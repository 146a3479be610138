/**
 * One HTTP attempt of a WEBHOOK step: refuses private addresses, follows redirects, bounds time and body size,
 * and classifies the outcome. Retrying is left to the activity's retry policy.
 */
import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { isBlockedAddress } from './address-guard';

/** Bytes of a response body that are kept; the rest is not read. */
export const MAX_BODY_BYTES = 64 * 1024;
export const DEFAULT_TIMEOUT_MS = 10_000;
export const DEFAULT_MAX_REDIRECTS = 5;

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

export type LookupAll = (hostname: string) => Promise<ResolvedAddress[]>;

export interface HttpClientOptions {
  /** WEBHOOK_ALLOW_PRIVATE: when true, no address is refused. */
  allowPrivate: boolean;
  /** Bound on the whole attempt: DNS, connect, every redirect hop and the body. */
  timeoutMs?: number;
  maxRedirects?: number;
  /** Resolves a hostname to every address it has; defaults to the system resolver. */
  lookup?: LookupAll;
  /** Address policy applied when allowPrivate is false; defaults to isBlockedAddress. */
  isBlocked?: (ip: string) => boolean;
}

export interface HttpRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
  body?: string;
}

export interface HttpResult {
  status: number;
  ok: boolean;
  /** At most MAX_BODY_BYTES of the body, decoded as UTF-8. */
  body: string;
  /** The parsed body when it is complete, valid JSON; undefined otherwise. */
  json: unknown | undefined;
  /** Lower-case names; repeated headers joined with ", ". */
  headers: Record<string, string>;
}

export interface HttpClient {
  /** One attempt; `signal` aborts it (the connection is closed) and the attempt rejects with the signal's reason. */
  request(req: HttpRequest, options?: { signal?: AbortSignal }): Promise<HttpResult>;
  /** The longest one request can take (DNS, connect, redirects and body). */
  readonly timeoutMs: number;
}

export type ResponseClass = 'ok' | 'retry' | 'fail';

/** Base of every error an attempt can throw; `retryable` tells whether another attempt may succeed. */
export abstract class HttpRequestError extends Error {
  abstract readonly retryable: boolean;
}

/** The target resolves to a loopback, private, link-local, metadata or otherwise non-public address. */
export class BlockedAddressError extends HttpRequestError {
  override readonly name = 'BlockedAddressError';
  readonly retryable = false;
  constructor(
    readonly host: string,
    readonly address: string,
  ) {
    super(`webhook address ${address} (${host}) is private; set WEBHOOK_ALLOW_PRIVATE=true to allow it`);
  }
}

/** The attempt did not complete within its time budget. */
export class HttpTimeoutError extends HttpRequestError {
  override readonly name = 'HttpTimeoutError';
  readonly retryable = true;
  constructor(readonly timeoutMs: number) {
    super(`webhook request timed out after ${formatDuration(timeoutMs)}`);
  }
}

/** The connection could not be made or broke (refused, reset, DNS failure, TLS failure). */
export class HttpNetworkError extends HttpRequestError {
  override readonly name = 'HttpNetworkError';
  readonly retryable = true;
  readonly code: string | undefined;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    const cause = options?.cause as NodeJS.ErrnoException | undefined;
    this.code = typeof cause?.code === 'string' ? cause.code : undefined;
  }
}

/** The URL (or a redirect's Location) is not an absolute http or https URL. */
export class InvalidUrlError extends HttpRequestError {
  override readonly name = 'InvalidUrlError';
  readonly retryable = false;
  constructor(
    readonly url: string,
    reason = 'is not an absolute http or https URL',
  ) {
    super(`webhook URL ${JSON.stringify(url)} ${reason}`);
  }
}

/** Classifies a response status: 2xx continues, 5xx/408/429 may be retried, anything else fails. */
export function classifyResponse(status: number): ResponseClass {
  if (status >= 200 && status < 300) return 'ok';
  if ((status >= 500 && status < 600) || status === 408 || status === 429) return 'retry';
  return 'fail';
}

/** Describes a non-2xx response for the execution's error: the status and the start of the body. */
export function describeFailure(result: HttpResult): string {
  const excerpt = result.body.replace(/\s+/g, ' ').trim().slice(0, 200);
  return excerpt ? `HTTP ${result.status}: ${excerpt}` : `HTTP ${result.status}`;
}

/** Creates the client that performs one webhook attempt per request() call. */
export function createHttpClient(options: HttpClientOptions): HttpClient {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const maxRedirects = options.maxRedirects ?? DEFAULT_MAX_REDIRECTS;
  const lookup = options.lookup ?? systemLookup;
  const isBlocked = options.isBlocked ?? isBlockedAddress;

  async function resolve(hostname: string, signal: AbortSignal): Promise<ResolvedAddress[]> {
    const bare = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
    const family = net.isIP(bare);
    let addresses: ResolvedAddress[];
    if (family === 4 || family === 6) {
      addresses = [{ address: bare, family }];
    } else {
      try {
        addresses = await abortable(lookup(bare), signal);
      } catch (err) {
        if (signal.aborted) throw err;
        throw new HttpNetworkError(`could not resolve ${bare}: ${errorText(err)}`, { cause: err });
      }
      if (addresses.length === 0) throw new HttpNetworkError(`could not resolve ${bare}: no addresses`);
    }
    if (!options.allowPrivate) {
      for (const { address } of addresses) {
        if (isBlocked(address)) throw new BlockedAddressError(bare, address);
      }
    }
    return addresses;
  }

  async function run(req: HttpRequest, signal: AbortSignal): Promise<HttpResult> {
    let url = parseUrl(req.url);
    let method = req.method.toUpperCase();
    let body = req.body;
    let headers = withoutHost(req.headers);

    for (let hop = 0; ; hop++) {
      const addresses = await resolve(url.hostname, signal);
      const { result, location } = await send(url, method, headers, body, addresses, signal);
      if (!REDIRECT_STATUSES.has(result.status) || location === undefined || hop >= maxRedirects) {
        return result;
      }

      let next: URL;
      try {
        next = new URL(location, url);
      } catch {
        throw new InvalidUrlError(location, '(redirect target) is not a valid URL');
      }
      if (next.protocol !== 'http:' && next.protocol !== 'https:') {
        throw new InvalidUrlError(next.href, '(redirect target) is not an http or https URL');
      }

      // Fetch semantics: 303 always, and 301/302 after a POST, become a GET without a body.
      if ((result.status === 303 && method !== 'GET' && method !== 'HEAD') || ((result.status === 301 || result.status === 302) && method === 'POST')) {
        method = 'GET';
        body = undefined;
        headers = omit(headers, BODY_HEADERS);
      }
      // Credentials meant for one origin are not handed to another.
      if (next.origin !== url.origin) headers = omit(headers, CREDENTIAL_HEADERS);
      url = next;
    }
  }

  return {
    timeoutMs,
    async request(req: HttpRequest, options: { signal?: AbortSignal } = {}): Promise<HttpResult> {
      const caller = options.signal;
      if (caller?.aborted) throw caller.reason;
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), timeoutMs);
      const onAbort = () => controller.abort();
      caller?.addEventListener('abort', onAbort, { once: true });
      try {
        return await run(req, controller.signal);
      } catch (err) {
        if (caller?.aborted) throw caller.reason;
        if (controller.signal.aborted && !(err instanceof HttpRequestError && !err.retryable)) {
          throw new HttpTimeoutError(timeoutMs);
        }
        throw err;
      } finally {
        clearTimeout(timer);
        caller?.removeEventListener('abort', onAbort);
      }
    },
  };
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const BODY_HEADERS = ['content-type', 'content-length', 'content-encoding', 'content-language', 'content-location'];
const CREDENTIAL_HEADERS = ['authorization', 'cookie', 'proxy-authorization'];

const systemLookup: LookupAll = async (hostname) => {
  const found = await dns.promises.lookup(hostname, { all: true, verbatim: true });
  return found.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
};

function parseUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new InvalidUrlError(raw);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new InvalidUrlError(raw);
  return url;
}

/** Sends one request to the given, already-checked addresses and reads at most MAX_BODY_BYTES of the answer. */
function send(
  url: URL,
  method: string,
  headers: Record<string, string>,
  body: string | undefined,
  addresses: ResolvedAddress[],
  signal: AbortSignal,
): Promise<{ result: HttpResult; location: string | undefined }> {
  return new Promise((resolvePromise, reject) => {
    if (signal.aborted) {
      reject(new Error('aborted'));
      return;
    }
    const hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    const payload = body === undefined ? undefined : Buffer.from(body, 'utf8');
    const outgoing: Record<string, string> = { ...headers };
    if (payload !== undefined) {
      outgoing['content-length'] = String(payload.length);
    }

    // Connect to exactly the addresses that were checked, so a second DNS answer cannot redirect us.
    const pinnedLookup: net.LookupFunction = (_host, opts, callback) => {
      if (opts.all)
        callback(
          null,
          addresses.map((a) => ({ address: a.address, family: a.family })),
        );
      else callback(null, addresses[0]!.address, addresses[0]!.family);
    };

    const requestOptions: https.RequestOptions = {
      protocol: url.protocol,
      hostname,
      port: url.port || undefined,
      path: `${url.pathname}${url.search}`,
      method,
      headers: outgoing,
      lookup: pinnedLookup,
      agent: false,
    };
    if (url.username || url.password) {
      requestOptions.auth = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
    }
    if (url.protocol === 'https:' && net.isIP(hostname) === 0) requestOptions.servername = hostname;

    let settled = false;
    const fail = (err: unknown): void => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      clientRequest.destroy();
      reject(signal.aborted ? new Error('aborted') : new HttpNetworkError(`webhook request to ${url.host} failed: ${errorText(err)}`, { cause: err }));
    };
    const onAbort = (): void => fail(new Error('aborted'));

    const clientRequest = (url.protocol === 'https:' ? https : http).request(requestOptions, (res) => {
      const chunks: Buffer[] = [];
      let kept = 0;
      let truncated = false;

      const finish = (): void => {
        if (settled) return;
        settled = true;
        signal.removeEventListener('abort', onAbort);
        const status = res.statusCode ?? 0;
        const text = Buffer.concat(chunks).toString('utf8');
        const result: HttpResult = {
          status,
          ok: status >= 200 && status < 300,
          body: text,
          json: truncated ? undefined : parseJson(text),
          headers: flattenHeaders(res.headers),
        };
        const location = res.headers.location;
        resolvePromise({ result, location: typeof location === 'string' ? location : undefined });
      };

      res.on('data', (chunk: Buffer) => {
        if (settled) return;
        const room = MAX_BODY_BYTES - kept;
        if (chunk.length > room) {
          chunks.push(chunk.subarray(0, room));
          kept += room;
          truncated = true;
          // Enough is kept: stop reading rather than downloading the rest.
          finish();
          res.destroy();
          clientRequest.destroy();
          return;
        }
        chunks.push(chunk);
        kept += chunk.length;
      });
      res.on('end', finish);
      res.on('error', fail);
      res.on('aborted', () => fail(new Error('connection closed before the response was complete')));
    });

    clientRequest.on('error', fail);
    signal.addEventListener('abort', onAbort, { once: true });
    clientRequest.end(payload);
  });
}

function parseJson(text: string): unknown | undefined {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function flattenHeaders(raw: http.IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

function withoutHost(headers: Record<string, string>): Record<string, string> {
  // The Host header always names the URL's host; the caller cannot aim it elsewhere.
  return omit(headers, ['host']);
}

function omit(headers: Record<string, string>, names: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!names.includes(name.toLowerCase())) out[name] = value;
  }
  return out;
}

function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new Error('aborted'));
  return new Promise<T>((resolvePromise, reject) => {
    const onAbort = (): void => reject(new Error('aborted'));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolvePromise(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}

function errorText(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    return code && !err.message.includes(code) ? `${code} ${err.message}` : err.message;
  }
  return String(err);
}

function formatDuration(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}
