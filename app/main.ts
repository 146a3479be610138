/** `npm start`: configuration from the environment, then the configured role until SIGINT/SIGTERM. */
import { ConfigError, loadConfig } from './config';
import { startTrellis } from './trellis';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(1);
    }
    throw err;
  }
  const trellis = await startTrellis(config);
  console.info(`trellis ${config.role} ready${trellis.url ? ` — API at ${trellis.url}` : ''} (task queue ${config.taskQueue})`);
  if (trellis.inbound) console.info(`inbound mail: SMTP on port ${trellis.inbound.port} for <project id>@${config.inboundDomain}`);
  let closing = false;
  const stop = (signal: string) => {
    if (closing) return;
    closing = true;
    console.info(`${signal}: shutting down`);
    trellis.close().then(
      () => process.exit(0),
      (err) => {
        console.error(err);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
