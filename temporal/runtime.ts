/**
 * The Temporal Runtime, installed once per process: its logs (the SDK's, activities' and the
 * workflow `log` sink's) go to Trellis's JSON logger, and its worker metrics to a Prometheus exporter
 * on a loopback port that /metrics reads and appends.
 */
import net from 'node:net';
import { IllegalStateError } from '@temporalio/common';
import { Runtime, type RuntimeOptions } from '@temporalio/worker';
import { type Logger, temporalLogger } from '../telemetry/logger';
import { setSdkMetricsUrl } from '../telemetry/metrics';

let installed = false;

/** A port free on the loopback right now (the SDK's exporter cannot report the one it picked). */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Installs the Runtime over `logger`; keeps one the embedding process installed first (a test environment). */
export async function installRuntime(logger: Logger): Promise<void> {
  if (installed) return;
  installed = true;
  const port = await freePort();
  const base: RuntimeOptions = {
    logger: temporalLogger(logger),
    telemetryOptions: { logging: { filter: { core: logger.isLevelEnabled('debug') ? 'INFO' : 'WARN' }, forward: {} } },
  };
  try {
    Runtime.install({
      ...base,
      telemetryOptions: {
        ...base.telemetryOptions,
        metrics: { prometheus: { bindAddress: `127.0.0.1:${port}`, countersTotalSuffix: true, useSecondsForDurations: true } },
      },
    });
    setSdkMetricsUrl(`http://127.0.0.1:${port}/metrics`);
  } catch (err) {
    if (err instanceof IllegalStateError) return;
    // The exporter could not bind (the port was taken meanwhile): logs still go through pino.
    logger.warn({ err }, 'the Temporal SDK metrics exporter did not start; /metrics leaves them out');
    try {
      Runtime.install(base);
    } catch (again) {
      if (!(again instanceof IllegalStateError)) throw again;
    }
  }
}
