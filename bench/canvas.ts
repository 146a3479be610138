/**
 * The canvas at size (issue 12): a 100-step workflow built through the API, opened in headless
 * Chromium, timed from navigation to every step on screen, then an edit timed from "Save step" to the
 * renamed box on the canvas; beside the same figures for a 10-step workflow in the same run.
 *
 *   npm run bench:canvas     (BENCH_STEPS=100, BENCH_BASELINE_STEPS=10, BENCH_ROUNDS=5; CHROMIUM_PATH)
 */
import { chromium, type Page } from 'playwright-core';
import { buildWebApp, kilobytes } from '../scripts/web-bundle';
import { type Bench, median, runBench, startBench } from './support';

const STEPS = Number(process.env.BENCH_STEPS ?? 100);
const BASELINE_STEPS = Number(process.env.BENCH_BASELINE_STEPS ?? 10);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** A chain of `n` steps after the trigger, of the kinds a long series has, with no saved positions (laid out by the app). */
function chain(n: number, templateId: string) {
  const kinds = [
    { type: 'SEND_EMAIL', config: { templateId } },
    { type: 'DELAY', config: { amount: 2, unit: 'days' } },
    { type: 'CONDITION', config: { field: 'data.plan', operator: 'equals', value: 'pro' } },
    { type: 'UPDATE_CONTACT', config: { data: { stage: 'nurtured' } } },
    { type: 'WAIT_FOR_EVENT', config: { eventName: 'clicked', timeout: 86400 } },
  ];
  const steps = Array.from({ length: n }, (_, i) => ({ key: `s${i}`, name: `Step ${i + 1}`, ...kinds[i % kinds.length]! }));
  const transitions = steps.map((s, i) => ({
    from: i === 0 ? 'trigger' : `s${i - 1}`,
    to: s.key,
    ...(steps[i - 1]?.type === 'CONDITION' ? { branch: 'yes' } : {}),
  }));
  return { steps, transitions };
}

async function measure(bench: Bench, page: Page, workflowId: string, steps: number) {
  const url = `${bench.trellis.url}/app/workflows/${workflowId}`;
  const render: number[] = [];
  const edit: number[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const t0 = performance.now();
    await page.goto(url);
    // The last of the steps (the trigger and `steps` more) is on screen.
    await page.locator('.react-flow__node').nth(steps).waitFor();
    render.push(performance.now() - t0);

    // An edit in the side panel: rename the middle step and wait for its box to show the new name.
    const name = `Renamed ${round}`;
    await page
      .getByRole('button', { name: `Step ${Math.ceil(steps / 2)} (`, exact: false })
      .first()
      .click();
    await page.getByLabel('Name', { exact: true }).fill(name);
    const t1 = performance.now();
    await page.getByRole('button', { name: 'Save step' }).click();
    await page.locator(`[data-step-name="${name}"]`).waitFor();
    edit.push(performance.now() - t1);
    // Back to the first name for the next round.
    await page.getByLabel('Name', { exact: true }).fill(`Step ${Math.ceil(steps / 2)}`);
    await page.getByRole('button', { name: 'Save step' }).click();
    await page.locator(`[data-step-name="Step ${Math.ceil(steps / 2)}"]`).waitFor();
  }
  return { render: median(render), edit: median(edit) };
}

async function main(): Promise<void> {
  const build = await buildWebApp();
  const bench = await startBench('canvas');
  const project = await bench.api('POST', '/admin/projects', 'bench', { name: 'canvas' });
  const key = project.secretKey as string;
  const template = await bench.api('POST', '/templates', key, { name: 'Newsletter', subject: 'News', body: '<p>News</p>' });
  const make = async (n: number) =>
    (await bench.api('POST', '/workflows', key, { name: `${n} steps`, eventName: `bench_${n}`, ...chain(n, template.id) })).id as string;
  const small = await make(BASELINE_STEPS);
  const large = await make(STEPS);

  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
  try {
    const page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
    await page.goto(`${bench.trellis.url}/app/#key=${key}`);
    await page.getByRole('heading', { name: 'Workflows', exact: true }).waitFor();
    // One unmeasured visit warms the browser's cache of the app's script.
    await measure(bench, page, small, BASELINE_STEPS);
    const base = await measure(bench, page, small, BASELINE_STEPS);
    const big = await measure(bench, page, large, STEPS);
    const ms = (x: number) => `${x.toFixed(0)} ms`.padStart(8);
    console.log(`canvas bench: median of ${ROUNDS} rounds, headless Chromium (initial JavaScript ${kilobytes(build.initialScriptGzipBytes)} gzipped)`);
    console.log('  steps   render    edit');
    console.log(`  ${String(BASELINE_STEPS).padStart(5)} ${ms(base.render)} ${ms(base.edit)}   (baseline)`);
    console.log(
      `  ${String(STEPS).padStart(5)} ${ms(big.render)} ${ms(big.edit)}   (${(big.render / base.render).toFixed(1)}× render, ${(big.edit / base.edit).toFixed(1)}× edit)`,
    );
  } finally {
    await browser.close();
    await bench.close();
  }
}

runBench(main);
