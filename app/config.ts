/** Configuration (SPEC §2): parsed once at boot; a bad value stops the process naming the variable. */
import { z } from 'zod';

const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

const schema = z.object({
  DATABASE_URL: z.string().min(1),
  TEMPORAL_ADDRESS: z.string().min(1).default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('trellis'),
  HOST: z.string().min(1).default('0.0.0.0'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  PUBLIC_URL: z.url().optional(),
  SMTP_URL: z.url().optional(),
  MAIL_FROM: z.string().min(1).default('Trellis <no-reply@localhost>'),
  ADMIN_API_KEY: z.string().min(1).optional(),
  RATE_LIMIT_TRACK_PER_SECOND: z.coerce.number().int().positive().default(1000),
  WEBHOOK_ALLOW_PRIVATE: bool.default(false),
  INBOUND_SMTP_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  INBOUND_DOMAIN: z.string().min(1).default('localhost'),
  ROLE: z.enum(['api', 'worker', 'all']).default('all'),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  // Below SEND_EMAIL's 30 s start-to-close timeout, with room for rendering and recording.
  SMTP_SEND_TIMEOUT_MS: z.coerce.number().int().min(1000).max(25_000).default(20_000),
  SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).max(600_000).default(25_000),
});

export interface Config {
  databaseUrl: string;
  temporalAddress: string;
  temporalNamespace: string;
  taskQueue: string;
  host: string;
  port: number;
  publicUrl: string;
  smtpUrl: string | undefined;
  mailFrom: string;
  adminApiKey: string | undefined;
  trackRatePerSecond: number;
  webhookAllowPrivate: boolean;
  inboundSmtpPort: number | undefined;
  inboundDomain: string;
  role: 'api' | 'worker' | 'all';
  logLevel: 'debug' | 'info' | 'warn' | 'error' | 'silent';
  /** A second listener serving only /metrics, /healthz and /readyz (how a ROLE=worker process is scraped). */
  metricsPort: number | undefined;
  /** The total deadline of one SMTP attempt, from connecting to the server's answer. */
  smtpSendTimeoutMs: number;
  /** On SIGTERM: how long in-flight requests, activities and the dispatcher's pass may take to finish. */
  shutdownGraceMs: number;
}

export class ConfigError extends Error {}

/** Parses `env` (empty strings count as unset); throws ConfigError naming every bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = schema.safeParse(cleaned);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  const c = parsed.data;
  return {
    databaseUrl: c.DATABASE_URL,
    temporalAddress: c.TEMPORAL_ADDRESS,
    temporalNamespace: c.TEMPORAL_NAMESPACE,
    taskQueue: c.TEMPORAL_TASK_QUEUE,
    host: c.HOST,
    port: c.PORT,
    publicUrl: (c.PUBLIC_URL ?? `http://localhost:${c.PORT}`).replace(/\/+$/, ''),
    smtpUrl: c.SMTP_URL,
    mailFrom: c.MAIL_FROM,
    adminApiKey: c.ADMIN_API_KEY,
    trackRatePerSecond: c.RATE_LIMIT_TRACK_PER_SECOND,
    webhookAllowPrivate: c.WEBHOOK_ALLOW_PRIVATE,
    inboundSmtpPort: c.INBOUND_SMTP_PORT,
    inboundDomain: c.INBOUND_DOMAIN,
    role: c.ROLE,
    logLevel: c.LOG_LEVEL,
    metricsPort: c.METRICS_PORT,
    smtpSendTimeoutMs: c.SMTP_SEND_TIMEOUT_MS,
    shutdownGraceMs: c.SHUTDOWN_GRACE_MS,
  };
}
