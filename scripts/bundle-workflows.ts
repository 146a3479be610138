/**
 * `npm run build` step: bundles the interpreter workflow once into dist/temporal/workflow-bundle.js,
 * so production workers start without webpack (and in seconds less). Workers started from sources
 * (tsx, `npm run dev`) bundle at start instead. `tsx scripts/bundle-workflows.ts <module> <out>`
 * bundles another workflow module the same way (a bench's baseline, so that its worker starts as
 * Trellis's does).
 */
import fs from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { workflowBundleOptions } from '../temporal/bundle-options';

async function main(): Promise<void> {
  const [module = 'temporal/workflows.ts', target = 'dist/temporal/workflow-bundle.js'] = process.argv.slice(2);
  const out = path.resolve(target);
  const { code } = await bundleWorkflowCode(workflowBundleOptions(path.resolve(module)));
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, code);
  console.info(`workflow bundle: ${out} (${Math.round(code.length / 1024)} KB)`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
