/** `npm run build` step: the web app into dist/web, with the size of its initial JavaScript. */
import path from 'node:path';
import { WEB_OUT, buildWebApp, kilobytes } from './web-bundle';

// The app's budget (issue 12): a first visit downloads less than this before the page can run.
const BUDGET_BYTES = 300 * 1024;

buildWebApp()
  .then((build) => {
    console.info(`web app: ${path.relative(process.cwd(), WEB_OUT)} (initial JavaScript ${kilobytes(build.initialScriptGzipBytes)} gzipped)`);
    if (build.initialScriptGzipBytes > BUDGET_BYTES)
      throw new Error(`the web app's initial JavaScript is over its budget of ${kilobytes(BUDGET_BYTES)} gzipped`);
  })
  .catch((err) => {
    console.error(err);
    process.exit(1);
  });
