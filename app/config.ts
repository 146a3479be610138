/** Configuration (SPEC §2): parsed once at boot; a bad value stops the process naming the variable. */
import { z } from 'zod';

const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

const schema = z
  .object({
    DATABASE_URL: z.string().min(1),
    TEMPORAL_ADDRESS: z.string().min(1).default('127.0.0.1:7233'),
    TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
    TEMPORAL_TASK_QUEUE: z.string().min(1).default('trellis'),
    TEMPORAL_DEPLOYMENT_NAME: z.string().min(1).optional(),
    TEMPORAL_BUILD_ID: z.string().min(1).optional(),
    TEMPORAL_VERSIONING_BEHAVIOR: z.enum(['AUTO_UPGRADE', 'PINNED']).default('AUTO_UPGRADE'),
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
  })
  // Worker Versioning needs both halves of a version; one alone is a mistake, not "off".
  .refine((c) => (c.TEMPORAL_DEPLOYMENT_NAME === undefined) === (c.TEMPORAL_BUILD_ID === undefined), {
    message: 'set both TEMPORAL_DEPLOYMENT_NAME and TEMPORAL_BUILD_ID (Worker Versioning), or neither',
    path: ['TEMPORAL_BUILD_ID'],
  });

export interface Config {
  databaseUrl: string;
  temporalAddress: string;
  temporalNamespace: string;
  taskQueue: string;
  /**
   * Temporal Worker Versioning (off when undefined): the worker polls as this Worker Deployment
   * Version, and runs take `defaultBehavior` unless the workflow says otherwise.
   */
  workerVersioning: { deploymentName: string; buildId: string; defaultBehavior: 'AUTO_UPGRADE' | 'PINNED' } | undefined;
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
    workerVersioning:
      c.TEMPORAL_DEPLOYMENT_NAME !== undefined && c.TEMPORAL_BUILD_ID !== undefined
        ? { deploymentName: c.TEMPORAL_DEPLOYMENT_NAME, buildId: c.TEMPORAL_BUILD_ID, defaultBehavior: c.TEMPORAL_VERSIONING_BEHAVIOR }
        : undefined,
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
  };
}
