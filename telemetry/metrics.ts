/**
 * Trellis's Prometheus metrics (prom-client), one registry per process. Each process counts what it
 * did itself: with ROLE=api and ROLE=worker apart, the API process counts HTTP requests and the
 * starts its dispatcher carried out, the worker the steps, emails and ends its activities committed.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export const registry = new Registry();
collectDefaultMetrics({ register: registry });

const registers = [registry];

export const httpRequestDuration = new Histogram({
  name: 'trellis_http_request_duration_seconds',
  help: 'HTTP requests by method, route pattern and status (the _count is the request rate)',
  labelNames: ['method', 'route', 'status'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers,
});

export const executionsStartedTotal = new Counter({
  name: 'trellis_executions_started_total',
  help: 'Executions whose Temporal workflow this process started (the outbox dispatcher)',
  registers,
});

export const executionsFinishedTotal = new Counter({
  name: 'trellis_executions_finished_total',
  help: 'Executions that reached a final status, counted where that status was committed',
  labelNames: ['status'] as const,
  registers,
});

export const stepDurationSeconds = new Histogram({
  name: 'trellis_step_duration_seconds',
  help: 'Time from a step visit starting to its final record, by step type (a DELAY lasts as long as it waits)',
  labelNames: ['type', 'status'] as const,
  // From a database write to a week-long wait.
  buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 30, 60, 300, 3600, 21600, 86400, 604800],
  registers,
});

export const emailsTotal = new Counter({
  name: 'trellis_emails_total',
  help: 'Emails recorded by SEND_EMAIL steps, by status (SENT, CAPTURED, SUPPRESSED, FAILED)',
  labelNames: ['status'] as const,
  registers,
});

export const dispatcherFailuresTotal = new Counter({
  name: 'trellis_dispatcher_failures_total',
  help: 'Outbox commands (start, signal, cancel) that failed and were put back for a retry, failed passes (kind "pass") and failed sends of leased commands (kind "send")',
  labelNames: ['kind'] as const,
  registers,
});

export const outboxCommandsTotal = new Counter({
  name: 'trellis_outbox_commands_total',
  help: 'Outbox commands carried out, by kind and by whom: "pass" (a dispatcher claimed it) or "sender" (the process whose transaction queued it sent it once that committed)',
  labelNames: ['kind', 'by'] as const,
  registers,
});

export const outboxDeadLettersTotal = new Counter({
  name: 'trellis_outbox_dead_letters_total',
  help: 'Outbox commands that failed for good (a refusal from Temporal, or too many failed attempts) and were moved to the dead letters, by kind',
  labelNames: ['kind'] as const,
  registers,
});

/** What the outbox gauges read at scrape time (installed by the process that owns a database). */
export type OutboxSampler = () => Promise<{ depth: number; oldestSeconds: number }>;
let sampler: OutboxSampler | undefined;
let sampling: Promise<{ depth: number; oldestSeconds: number }> | undefined;

/** Both gauges read one sample per scrape (they are collected concurrently). */
async function sample(): Promise<{ depth: number; oldestSeconds: number }> {
  if (!sampler) return { depth: Number.NaN, oldestSeconds: Number.NaN };
  sampling ??= sampler()
    .catch(() => ({ depth: Number.NaN, oldestSeconds: Number.NaN }))
    .finally(() => {
      sampling = undefined;
    });
  return sampling;
}

new Gauge({
  name: 'trellis_outbox_depth',
  help: 'Temporal commands queued in the outbox (all processes; NaN when the database is unreachable)',
  registers,
  async collect() {
    this.set((await sample()).depth);
  },
});

new Gauge({
  name: 'trellis_outbox_oldest_seconds',
  help: 'Age of the oldest queued outbox command in seconds (0 when empty)',
  registers,
  async collect() {
    this.set((await sample()).oldestSeconds);
  },
});

/** Makes the outbox gauges read through `next`; returns the function that removes it again. */
export function setOutboxSampler(next: OutboxSampler): () => void {
  sampler = next;
  return () => {
    if (sampler === next) sampler = undefined;
  };
}

/** Where the Temporal SDK's own Prometheus exporter listens in this process, when it does. */
let sdkMetricsUrl: string | undefined;

/** Records the address of the SDK's exporter (set when the Temporal Runtime is installed with one). */
export function setSdkMetricsUrl(url: string | undefined): void {
  sdkMetricsUrl = url;
}

/**
 * The text a scrape answers: Trellis's registry, then the Temporal SDK's worker metrics (`temporal_*`)
 * read from its exporter on the loopback, so one target per process carries both. An exporter that
 * does not answer within a second is left out of that scrape.
 */
export async function exposition(): Promise<string> {
  const own = await registry.metrics();
  if (!sdkMetricsUrl) return own;
  try {
    const res = await fetch(sdkMetricsUrl, { signal: AbortSignal.timeout(1000) });
    if (!res.ok) return own;
    return `${own.trimEnd()}\n${(await res.text()).trimEnd()}\n`;
  } catch {
    return own;
  }
}

export const contentType = registry.contentType;
