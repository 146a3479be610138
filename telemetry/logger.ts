/**
 * Structured JSON logs (pino): one root logger per Trellis process, and the adapter that routes the
 * Temporal SDK's logs (worker, activity and workflow-sink messages) into it.
 */
import type { LogLevel as TemporalLevel, LogMetadata, Logger as TemporalLogger } from '@temporalio/common';
import pino from 'pino';

export type Logger = pino.Logger;
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

/** pino's error serializer, less a failed query's parameters (drizzle attaches them: contact data). */
function serializeError(err: Error): ReturnType<typeof pino.stdSerializers.err> {
  const serialized = pino.stdSerializers.err(err) as ReturnType<typeof pino.stdSerializers.err> & { params?: unknown };
  delete serialized.params;
  return serialized;
}

/** A JSON logger at `level`, writing to stdout unless `destination` is given (tests capture lines). */
export function createLogger(level: LogLevel, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'trellis' },
      timestamp: pino.stdTimeFunctions.isoTime,
      // The SDK passes failures as `error`: serialized like pino's own `err` (message, type, stack).
      serializers: { err: serializeError, error: serializeError },
    },
    destination,
  );
}

const PINO_LEVEL: Record<TemporalLevel, pino.Level> = { TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' };

/**
 * The Temporal Runtime's logger over `logger`. The SDK's own components (worker, core) say a lot at
 * INFO (every start, poll and shutdown), so their INFO lines are kept only at LOG_LEVEL=debug; what
 * Trellis itself logs through the SDK (activities, the workflow's `log` sink) keeps its level.
 */
export function temporalLogger(logger: Logger): TemporalLogger {
  const sdk = logger.child({ component: 'temporal' });
  const log = (level: TemporalLevel, message: string, meta?: LogMetadata) => {
    const own = meta?.sdkComponent === 'activity' || meta?.sdkComponent === 'workflow';
    if (!own && level === 'INFO' && !sdk.isLevelEnabled('debug')) return;
    sdk[PINO_LEVEL[level]](meta ?? {}, message);
  };
  return {
    log,
    trace: (m, meta) => log('TRACE', m, meta),
    debug: (m, meta) => log('DEBUG', m, meta),
    info: (m, meta) => log('INFO', m, meta),
    warn: (m, meta) => log('WARN', m, meta),
    error: (m, meta) => log('ERROR', m, meta),
  };
}
