/**
 * `npm run screenshots`: the README's pictures of the web app. Starts Trellis on a scratch database
 * and a Temporal dev server, builds a small welcome series through the API, enrols three contacts,
 * and saves headless Chromium screenshots of the workflow list, the canvas, one run's page and the
 * template editor into docs/screenshots/. CHROMIUM_PATH picks the browser (default /usr/bin/chromium).
 */
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { runBench, startBench } from '../bench/support';
import { buildWebApp } from './web-bundle';

const OUT = path.resolve(__dirname, '..', 'docs', 'screenshots');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

async function main(): Promise<void> {
  await buildWebApp();
  const bench = await startBench('screenshots', { ROLE: 'all' });
  const api = bench.api;
  const project = await api('POST', '/admin/projects', 'bench', { name: 'Acme' });
  const key = project.secretKey as string;
  const template = await api('POST', '/templates', key, {
    name: 'Welcome',
    subject: 'Welcome, {{firstName ?? friend}}',
    body: '<h1>Welcome aboard, {{firstName ?? friend}}!</h1><p>Here is how to get started with Acme.</p>',
  });
  const welcome = await api('POST', '/workflows', key, {
    name: 'Welcome series',
    eventName: 'signed_up',
    steps: [
      { key: 'email', type: 'SEND_EMAIL', name: 'Welcome email', config: { templateId: template.id } },
      { key: 'wait', type: 'DELAY', name: 'Wait two days', config: { amount: 2, unit: 'days' } },
      { key: 'plan', type: 'CONDITION', name: 'On the pro plan?', config: { field: 'data.plan', operator: 'equals', value: 'pro' } },
      { key: 'tag', type: 'UPDATE_CONTACT', name: 'Tag as pro', config: { addTags: ['pro'] } },
      { key: 'upsell', type: 'WAIT_FOR_EVENT', name: 'Wait for an upgrade', config: { eventName: 'upgraded', timeout: 604800 } },
      { key: 'done', type: 'EXIT', name: 'Done', config: { reason: 'welcomed' } },
    ],
    transitions: [
      { from: 'trigger', to: 'email' },
      { from: 'email', to: 'wait' },
      { from: 'wait', to: 'plan' },
      { from: 'plan', to: 'tag', branch: 'yes' },
      { from: 'plan', to: 'upsell', branch: 'no' },
      { from: 'tag', to: 'done' },
      { from: 'upsell', to: 'done' },
    ],
  });
  await api('PATCH', `/workflows/${welcome.id}`, key, { enabled: true });
  await api('POST', '/workflows', key, { name: 'Invoice reminders', eventName: 'invoice.created' });
  for (const [email, plan] of [
    ['ada@example.com', 'pro'],
    ['grace@example.com', 'free'],
    ['alan@example.com', 'pro'],
  ])
    await fetch(`${bench.trellis.url}/v1/track`, {
      method: 'POST',
      headers: { authorization: `Bearer ${project.publicKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ event: 'signed_up', email, data: { plan, firstName: email.split('@')[0] } }),
    });

  fs.mkdirSync(OUT, { recursive: true });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
  try {
    const page = await browser.newPage({ viewport: { width: 1440, height: 860 } });
    const shot = (name: string) => page.screenshot({ path: path.join(OUT, name) });
    await page.goto(`${bench.trellis.url}/app/#key=${key}`);
    await page.locator('[data-testid="active-count"]', { hasText: '3' }).waitFor({ timeout: 60_000 });
    await shot('workflows.png');

    await page.getByRole('link', { name: 'Welcome series' }).click();
    await page.locator('.react-flow__node', { hasText: '3 active' }).waitFor({ timeout: 60_000 });
    await page.locator('.react-flow__node', { hasText: 'On the pro plan?' }).click();
    await page.getByRole('button', { name: 'Save step' }).waitFor();
    await shot('canvas.png');

    await page.getByRole('button', { name: 'Close' }).click();
    await page.locator('.executions a').first().click();
    await page.locator('[data-testid="execution-status"]', { hasText: 'WAITING' }).waitFor({ timeout: 60_000 });
    await page.locator('.react-flow__edge.path').first().waitFor({ state: 'attached' });
    await shot('execution.png');

    await page.goto(`${bench.trellis.url}/app/templates/${template.id}`);
    await page.locator('[data-testid="preview-subject"]', { hasText: 'Welcome, Ada' }).waitFor();
    await shot('template.png');
    console.info(`screenshots in ${path.relative(process.cwd(), OUT)}: workflows.png, canvas.png, execution.png, template.png`);
  } finally {
    await browser.close();
    await bench.close();
  }
}

runBench(main);
