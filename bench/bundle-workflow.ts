/**
 * Bundles a bench's workflow module into a file, as `npm run build` bundles Trellis's: run in a
 * process of its own (`tsx bench/bundle-workflow.ts <module> <out>`), so that a baseline's worker
 * starts from a prebuilt bundle, as Trellis's does, without webpack's work and leftovers in its heap.
 */
import fs from 'node:fs';
import { bundleWorkflowCode } from '@temporalio/worker';

async function main(): Promise<void> {
  const [workflowsPath, out] = process.argv.slice(2);
  if (!workflowsPath || !out) throw new Error('usage: bundle-workflow.ts <module> <out>');
  const { code } = await bundleWorkflowCode({ workflowsPath });
  fs.writeFileSync(out, code);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
