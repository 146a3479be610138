/** `npm start`: configuration from the environment, then the configured role until SIGINT/SIGTERM. */
import { createLogger } from '../telemetry/logger';
import { type Config, ConfigError, loadConfig } from './config';
import { startTrellis } from './trellis';

/** Logs before the configuration is known (it names LOG_LEVEL) go out at the default level. */
const bootLogger = createLogger('info');

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      bootLogger.fatal(err.message);
      process.exit(1);
    }
    throw err;
  }
  const trellis = await startTrellis(config);
  const { logger } = trellis;
  logger.info(
    { role: config.role, url: trellis.url, metricsUrl: trellis.metricsUrl, taskQueue: config.taskQueue },
    `trellis ${config.role} ready${trellis.url ? ` — API at ${trellis.url}` : ''} (task queue ${config.taskQueue})`,
  );
  if (trellis.inbound) logger.info(`inbound mail: SMTP on port ${trellis.inbound.port} for <project id>@${config.inboundDomain}`);
  let closing = false;
  const stop = (signal: string) => {
    if (closing) return;
    closing = true;
    logger.info(`${signal}: shutting down`);
    trellis.close().then(
      () => process.exit(0),
      (err) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err) => {
  bootLogger.fatal({ err }, 'trellis failed to start');
  process.exit(1);
});
