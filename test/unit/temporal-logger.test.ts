import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, type LogLevel, temporalLogger } from '../../telemetry/logger';

function capture(level: LogLevel) {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line) lines.push(JSON.parse(line));
      done();
    },
  });
  return { logger: temporalLogger(createLogger(level, stream)), lines };
}

describe('the Temporal Runtime logger over pino', () => {
  it("keeps Trellis's own INFO lines (activities, the workflow sink) and drops the SDK's INFO chatter at LOG_LEVEL=info", () => {
    const { logger, lines } = capture('info');
    logger.info('Worker started', { sdkComponent: 'worker', taskQueue: 'q' });
    logger.info('email captured (no SMTP_URL)', { sdkComponent: 'activity', activityType: 'sendEmail' });
    logger.warn('execution failed', { sdkComponent: 'workflow', workflowId: 'trellis-execution-1' });
    logger.warn('Worker poll failed', { sdkComponent: 'worker' });
    logger.debug('activity details', { sdkComponent: 'activity' });
    expect(lines.map((l) => [l.level, l.msg, l.sdkComponent, l.component])).toEqual([
      [30, 'email captured (no SMTP_URL)', 'activity', 'temporal'],
      [40, 'execution failed', 'workflow', 'temporal'],
      [40, 'Worker poll failed', 'worker', 'temporal'],
    ]);
    expect(lines[1]).toMatchObject({ workflowId: 'trellis-execution-1', service: 'trellis' });
  });

  it('passes everything at LOG_LEVEL=debug and nothing at silent; errors are serialized with their message', () => {
    const debug = capture('debug');
    debug.logger.info('Worker started', { sdkComponent: 'worker' });
    debug.logger.error('activity failed', { sdkComponent: 'activity', error: new Error('smtp down') });
    expect(debug.lines.map((l) => l.msg)).toEqual(['Worker started', 'activity failed']);
    expect(debug.lines[1]!.error).toMatchObject({ type: 'Error', message: 'smtp down' });
    // A failed query's parameters (contact data) stay out of the log.
    debug.logger.error('query failed', { error: Object.assign(new Error('Failed query'), { query: 'select 1', params: ['ada@example.com'] }) });
    expect(debug.lines[2]!.error).toMatchObject({ message: 'Failed query', query: 'select 1' });
    expect(JSON.stringify(debug.lines[2])).not.toContain('ada@example.com');

    const silent = capture('silent');
    silent.logger.error('activity failed', { sdkComponent: 'activity' });
    expect(silent.lines).toEqual([]);
  });
});
