/**
 * SPEC §15 in a real browser: a newcomer signs in with the printed link, builds a welcome series with
 * the mouse, enables it, watches contacts arrive, opens one run's path, meets the locked state and
 * leaves it both ways — against the real API, Postgres and Temporal. axe-core checks every page.
 */
import { type Browser, chromium, type Locator, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLiveReload, type LiveReload } from '../../api/live-reload';
import { buildWebApp } from '../../scripts/web-bundle';
import { seriousViolations, chromiumPath } from '../support/browser';
import { createTemplate } from '../support/builders';
import { startTestApp, waitFor, type TestApp } from '../support/harness';

const CHROMIUM = chromiumPath();
if (!CHROMIUM) console.warn('web-editor.test.ts is skipped: no Chromium binary found (install it: apt-get install -y chromium, or set CHROMIUM_PATH)');

describe.skipIf(!CHROMIUM)('the web editor in Chromium', () => {
  let app: TestApp;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    const [, started] = await Promise.all([buildWebApp(), startTestApp()]);
    app = started;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
    page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  /** A step's box on the canvas. */
  const node = (name: string): Locator => page.locator('.react-flow__node', { has: page.locator(`[data-step-name="${name}"]`) });

  /**
   * Drags from a step's outgoing handle to another step's incoming handle, as a user does; again
   * when no connection came of it (a live refresh may re-render the canvas under the pointer).
   */
  async function connect(from: string, to: string) {
    const edges = await page.locator('.react-flow__edge').count();
    for (let attempt = 1; ; attempt += 1) {
      const a = (await node(from).locator('.react-flow__handle.source').first().boundingBox())!;
      const b = (await node(to).locator('.react-flow__handle.target').boundingBox())!;
      await page.mouse.move(a.x + a.width / 2, a.y + a.height / 2);
      await page.mouse.down();
      await page.mouse.move(b.x + b.width / 2, b.y + b.height / 2, { steps: 12 });
      await page.mouse.up();
      try {
        await waitFor(async () => (await page.locator('.react-flow__edge').count()) === edges + 1, `a connection from ${from} to ${to}`, 5_000);
        return;
      } catch (error) {
        if (attempt === 3) throw error;
      }
    }
  }

  /** Focuses an element and presses Enter until the panel with that heading opens: a live refresh may re-render the element between the two. */
  async function openWithKeyboard(target: Locator, heading: string) {
    const panel = page.getByRole('heading', { name: heading });
    for (let attempt = 1; ; attempt += 1) {
      await target.focus();
      await page.keyboard.press('Enter');
      try {
        await panel.waitFor({ timeout: 5_000 });
        return;
      } catch (error) {
        if (attempt === 5) throw error;
      }
    }
  }

  async function expectAccessible(what: string) {
    const violations = await seriousViolations(page);
    expect(violations, `${what}: ${JSON.stringify(violations, null, 1)}`).toEqual([]);
  }

  it('builds, enables and watches a welcome series, then unlocks it both ways', async () => {
    const templateId = await createTemplate(app.api, { name: 'Welcome', subject: 'Welcome!', body: '<p>Hello</p>' });

    // Signing in: the printed link's fragment is kept in the tab and taken out of the address bar.
    await page.goto(`${app.url}/app`);
    await page.getByRole('heading', { name: 'Sign in to Trellis' }).waitFor();
    await expectAccessible('sign-in page');
    await page.goto(`${app.url}/app/#key=${app.project.secretKey}`);
    await page.getByRole('heading', { name: 'Workflows', exact: true }).waitFor();
    expect(page.url()).toBe(`${app.url}/app/workflows`);
    expect(await page.evaluate("sessionStorage.getItem('trellis.secretKey')")).toBe(app.project.secretKey);
    await expectAccessible('empty workflow list');

    // Create: a missing field is refused by the API and named at the field.
    await page.getByLabel('Name').fill('Welcome series');
    await page.getByRole('button', { name: 'Create workflow' }).click();
    await page.locator('#new-event[aria-invalid="true"]').waitFor();
    await page.getByLabel('Trigger event').fill('signed_up');
    await page.getByRole('button', { name: 'Create workflow' }).click();
    await page.waitForURL(/\/app\/workflows\/[0-9a-f-]{36}$/);
    const workflowId = page.url().split('/').pop()!;
    await node('Trigger').waitFor();
    expect(await node('Trigger').textContent()).toContain('Event: signed_up');

    // Steps from the palette, each filled in the side panel; the API's errors show at their field.
    await page.getByRole('button', { name: 'Send email', exact: true }).click();
    await page.getByLabel('Name').fill('Welcome email');
    await page.getByRole('button', { name: 'Add step' }).click();
    const template = page.getByLabel('Template');
    await page.locator('select[aria-invalid="true"]#field-config-templateId').waitFor();
    expect(await page.locator('#field-config-templateId-error').textContent()).toBe('templateId is required');
    await template.selectOption(templateId);
    await page.getByRole('button', { name: 'Add step' }).click();
    await page.getByRole('button', { name: 'Save step' }).waitFor();
    expect(await node('Welcome email').textContent()).toContain('Template: Welcome');
    expect(await page.getByRole('link', { name: 'Edit the template' }).getAttribute('href')).toBe(`/app/templates/${templateId}`);

    await page.getByRole('button', { name: 'Delay', exact: true }).click();
    await page.getByLabel('Name').fill('Wait a day');
    await page.getByLabel('Amount').fill('0');
    await page.getByRole('button', { name: 'Add step' }).click();
    await page.locator('#field-config-amount-error').waitFor();
    await page.getByLabel('Amount').fill('1');
    await page.getByLabel('Unit').selectOption('days');
    await page.getByRole('button', { name: 'Add step' }).click();
    await page.getByRole('button', { name: 'Save step' }).waitFor();
    expect(await node('Wait a day').textContent()).toContain('Wait 1 day');

    await page.getByRole('button', { name: 'Exit', exact: true }).click();
    await page.getByLabel('Name').fill('Done');
    await page.getByLabel('Reason (optional)').fill('welcomed');
    await page.getByRole('button', { name: 'Add step' }).click();
    await page.getByRole('button', { name: 'Save step' }).waitFor();

    // Connected by dragging, handle to handle.
    await connect('Trigger', 'Welcome email');
    await connect('Welcome email', 'Wait a day');
    await connect('Wait a day', 'Done');
    const built = await app.api.client.getWorkflow({ params: { id: workflowId } });
    const idOf = (name: string) => built.steps.find((s) => s.name === name)!.id;
    expect(built.steps.map((s) => [s.name, s.type, s.config])).toEqual([
      ['Trigger', 'TRIGGER', {}],
      ['Welcome email', 'SEND_EMAIL', { templateId }],
      ['Wait a day', 'DELAY', { amount: 1, unit: 'days' }],
      ['Done', 'EXIT', { reason: 'welcomed' }],
    ]);
    expect(built.transitions.map((t) => [t.fromStepId, t.toStepId, t.branch])).toEqual([
      [idOf('Trigger'), idOf('Welcome email'), null],
      [idOf('Welcome email'), idOf('Wait a day'), null],
      [idOf('Wait a day'), idOf('Done'), null],
    ]);
    expect(built.steps.every((s) => s.type === 'TRIGGER' || s.position !== null)).toBe(true);
    await expectAccessible('canvas');

    // Each refresh of the counts rebuilds the nodes: none is ever hidden meanwhile (a node that lost
    // its measured size is hidden until the canvas measures it again).
    // (A script in the page: this file is not compiled against the DOM's types.)
    await page.evaluate(`
      const hidden = (globalThis.hiddenNodes = []);
      const note = (el) => {
        if (el instanceof HTMLElement && el.classList.contains('react-flow__node') && el.style.visibility === 'hidden') hidden.push(el.dataset.id);
      };
      new MutationObserver((records) => {
        for (const r of records) {
          note(r.target);
          for (const added of r.addedNodes) note(added);
        }
      }).observe(document.querySelector('.react-flow__nodes'), { attributes: true, attributeFilter: ['style'], childList: true, subtree: true });
    `);

    // Enabled, it enrols tracked contacts; the counts on the canvas move to the DELAY.
    await page.getByRole('button', { name: 'Enable workflow' }).click();
    await page.locator('[data-testid="workflow-status"]', { hasText: 'ACTIVE' }).waitFor();
    const track = app.as(app.project.publicKey);
    for (const email of ['ada@example.com', 'grace@example.com', 'alan@example.com'])
      expect((await track.post('/v1/track', { event: 'signed_up', email })).status).toBe(200);
    await node('Wait a day').locator('[data-testid="step-active"]', { hasText: '3 active' }).waitFor({ timeout: 30_000 });
    expect(await node('Welcome email').locator('[data-testid="step-active"]').textContent()).toBe('0 active');
    expect(await page.evaluate('globalThis.hiddenNodes')).toEqual([]);

    // Locked: it says so with the count, and a structural edit is refused with the API's reason.
    const locked = page.locator('[data-testid="locked"]');
    await locked.waitFor();
    expect(await locked.textContent()).toContain('3 executions are active');
    await node('Done').click();
    await page.getByLabel('Reason (optional)').fill('done');
    await page.getByRole('button', { name: 'Save step' }).click();
    await page.locator('.notice[role="alert"]', { hasText: /locked/i }).waitFor();
    await expectAccessible('locked canvas');

    // One run's path: trigger and email done, waiting in the delay, the exit not reached.
    await page.getByRole('button', { name: 'Close' }).click();
    await page.locator('.executions a').first().click();
    await page.waitForURL(/\/executions\/[0-9a-f-]{36}$/);
    const executionUrl = page.url();
    await page.locator('[data-testid="execution-status"]', { hasText: 'WAITING' }).waitFor();
    const path = page.locator('[data-testid="execution-path"] > li');
    await waitFor(async () => (await path.count()) === 3, 'the three visited steps');
    expect(await path.locator('h3').allTextContents()).toEqual(['Trigger (Trigger)', 'Welcome email (Send email)', 'Wait a day (Delay)']);
    expect(await path.locator('.badge').allTextContents()).toEqual(['COMPLETED', 'COMPLETED', 'WAITING']);
    // Edges are drawn once their steps are measured, a frame after the steps.
    await page.locator('.react-flow__edge.path').nth(1).waitFor({ state: 'attached' });
    expect(await page.locator('.react-flow__edge.path').count()).toBe(2);
    expect(await node('Done').locator('.step').getAttribute('class')).toContain('run-unvisited');
    expect(await node('Wait a day').locator('.step').getAttribute('class')).toContain('run-waiting');
    await node('Welcome email').filter({ hasText: 'Template: Welcome' }).waitFor();
    await expectAccessible('execution page');

    const runsBefore = await app.api.client.listExecutions({ params: { id: workflowId } });

    // First way out: disable. The banner goes, the edit goes through, the runs go on.
    await page.getByRole('link', { name: 'Welcome series' }).click();
    await locked.waitFor();
    await locked.getByRole('button', { name: 'Disable workflow' }).click();
    await page.locator('[data-testid="workflow-status"]', { hasText: 'PAUSED' }).waitFor();
    await locked.waitFor({ state: 'detached' });
    await node('Done').click();
    await page.getByLabel('Reason (optional)').fill('done');
    await page.getByRole('button', { name: 'Save step' }).click();
    await page.locator('.notice[role="status"]', { hasText: 'Saved.' }).waitFor();
    expect((await app.api.client.getWorkflow({ params: { id: workflowId } })).steps.find((s) => s.name === 'Done')!.config).toEqual({ reason: 'done' });

    // The run's page keeps showing the graph it runs on: a step added since is not on it.
    const enrolledVersion = runsBefore.data[0]!.workflowVersion;
    const later = await app.api.client.createStep({ params: { id: workflowId }, body: { type: 'EXIT', name: 'Added later', config: {} } });
    const versionNow = (await app.api.client.getWorkflow({ params: { id: workflowId } })).version;
    expect(versionNow).toBeGreaterThan(enrolledVersion);
    await page.goto(executionUrl);
    await node('Wait a day').waitFor();
    expect(await page.locator('.react-flow__node').count()).toBe(4);
    expect(await node('Added later').count()).toBe(0);
    expect(await page.locator('[data-testid="execution-version"]').textContent()).toBe(`version ${enrolledVersion}`);
    const pinned = await app.api.client.getExecutionGraph({ params: { id: workflowId, executionId: executionUrl.split('/').pop()! } });
    expect(pinned.version).toBe(enrolledVersion);
    const unknown = await app.api.get(`/workflows/${workflowId}/executions/${workflowId}/graph`);
    expect([unknown.status, (unknown.body as { error: { message: string } }).error.message]).toEqual([404, 'execution not found']);
    expect(pinned.steps.map((s) => s.name)).toEqual(['Trigger', 'Welcome email', 'Wait a day', 'Done']);
    expect((pinned.steps.find((s) => s.name === 'Done')!.config as { reason?: string }).reason).toBe('welcomed');
    await app.api.client.deleteStep({ params: { id: workflowId, stepId: later.id } });
    await page.getByRole('link', { name: 'Welcome series' }).click();
    await node('Done').waitFor();

    // Second way out: enabled again it is locked again; cancel-all ends every run.
    await page.getByRole('button', { name: 'Enable workflow' }).click();
    await locked.waitFor();
    await locked.getByRole('button', { name: 'Cancel all 3 active executions' }).click();
    await locked.waitFor({ state: 'detached' });
    await node('Wait a day').locator('[data-testid="step-active"]', { hasText: '0 active' }).waitFor();
    const runs = await app.api.client.listExecutions({ params: { id: workflowId } });
    expect(runs.data.map((e) => e.status)).toEqual(['CANCELLED', 'CANCELLED', 'CANCELLED']);

    // The list shows it with its trigger, status and active count.
    await page.getByRole('link', { name: 'Workflows', exact: true }).first().click();
    const row = page.locator('tr', { hasText: 'Welcome series' });
    await row.locator('[data-testid="active-count"]', { hasText: '0' }).waitFor();
    expect(await row.locator('td').allTextContents()).toEqual(['Welcome series', 'Event: signed_up', 'ACTIVE', '0', 'DuplicateArchive']);
    await expectAccessible('workflow list');
    await waitFor(
      async () => ((await app.api.client.getWorkflowStats({ params: { id: workflowId } })).executions as Record<string, number>).CANCELLED === 3,
      'the stats to count the cancelled runs',
    );
  });

  it('edits a CONDITION as rows in groups and a SPLIT as branches, with the API errors at the row', async () => {
    const workflow = await app.api.client.createWorkflow({ body: { name: 'Routing', eventName: 'routed' } });
    await page.goto(`${app.url}/app/workflows/${workflow.id}`);
    await node('Trigger').waitFor();

    // A new condition starts as one row; a missing value is refused and named at that row.
    await page.getByRole('button', { name: 'Condition', exact: true }).click();
    await page.getByLabel('Name').fill('Is pro');
    await page.getByLabel('Field, group 1 row 1').waitFor();
    expect(await page.locator('[data-testid="filter-row"]').count()).toBe(1);
    await page.getByLabel('Field, group 1 row 1').fill('data.plan');
    await page.getByLabel('Value, group 1 row 1').fill('');
    await page.getByRole('button', { name: 'Add step' }).click();
    await page.locator('#field-config-value-error').waitFor();
    expect(await page.locator('#field-config-value[aria-invalid="true"]').count()).toBe(1);
    expect(await page.locator('#field-config-value-error').textContent()).toBe('value is required with operator equals');
    await page.getByLabel('Value, group 1 row 1').fill('pro');
    await page.getByRole('button', { name: 'Add a condition' }).click();
    await page.getByLabel('Field, group 1 row 2').fill('data.seats');
    await page.getByLabel('Operator, group 1 row 2').selectOption('greaterThan');
    await page.getByLabel('Value, group 1 row 2').fill('10');
    await page.getByRole('button', { name: 'Add a group' }).click();
    await page.getByLabel('Field, group 2 row 1').fill('contact.tags');
    await page.getByLabel('Operator, group 2 row 1').selectOption('contains');
    await page.getByLabel('Value, group 2 row 1').fill('vip');
    await page.getByLabel('Groups must').selectOption('OR');
    await expectAccessible('condition form');
    await page.getByRole('button', { name: 'Add step' }).click();
    await page.getByRole('button', { name: 'Save step' }).waitFor();
    const conditionOf = async () => (await app.api.client.getWorkflow({ params: { id: workflow.id } })).steps.find((s) => s.name === 'Is pro')!.config;
    expect(await conditionOf()).toEqual({
      logic: 'OR',
      groups: [
        {
          filters: [
            { field: 'data.plan', operator: 'equals', value: 'pro' },
            { field: 'data.seats', operator: 'greaterThan', value: 10 },
          ],
        },
        { filters: [{ field: 'contact.tags', operator: 'contains', value: 'vip' }] },
      ],
    });
    expect(await node('Is pro').textContent()).toContain('2 groups joined by OR');

    // Saved as a tree, a row's error lands at that row.
    await page.getByLabel('Operator, group 1 row 2').selectOption('within');
    await page.getByLabel('Value, group 1 row 2').fill('-3');
    await page.getByRole('button', { name: 'Save step' }).click();
    await page.locator('#field-config-groups-0-filters-1-value-error').waitFor();
    expect(await page.locator('#field-config-groups-0-filters-1-value-error').textContent()).toBe('value must be a positive number with operator within');
    await page.getByLabel('Value, group 1 row 2').fill('3');
    await page.getByLabel('Unit, group 1 row 2').selectOption('hours');
    await page.getByRole('button', { name: 'Save step' }).click();
    await page.locator('.notice[role="status"]', { hasText: 'Saved.' }).waitFor();
    expect(((await conditionOf()) as { groups: { filters: unknown[] }[] }).groups[0]!.filters[1]).toEqual({
      field: 'data.seats',
      operator: 'within',
      value: 3,
      unit: 'hours',
    });
    await page.getByRole('button', { name: 'Close' }).click();

    // A split's branches are name and weight rows; its handles follow them.
    await page.getByRole('button', { name: 'Split', exact: true }).click();
    await page.getByLabel('Name', { exact: true }).fill('A/B');
    await page.getByLabel('Name of branch 2').waitFor();
    expect(await page.locator('[data-testid="branch-row"]').count()).toBe(2);
    await page.getByLabel('Name of branch 2').fill('Bee');
    await page.getByRole('button', { name: 'Add a branch' }).click();
    await page.getByLabel('Name of branch 3').fill('c');
    await page.getByLabel('Weight of branch 3').fill('3');
    await page.getByRole('button', { name: 'Add step' }).click();
    await page.locator('#field-config-branches-1-name-error').waitFor();
    expect(await page.locator('#field-config-branches-1-name-error').textContent()).toContain('must be a slug');
    await page.getByLabel('Name of branch 2').fill('b');
    await page.getByRole('button', { name: 'Add step' }).click();
    await page.getByRole('button', { name: 'Save step' }).waitFor();
    const split = (await app.api.client.getWorkflow({ params: { id: workflow.id } })).steps.find((s) => s.name === 'A/B')!;
    expect(split.config).toEqual({
      branches: [
        { name: 'a', weight: 1 },
        { name: 'b', weight: 1 },
        { name: 'c', weight: 3 },
      ],
    });
    expect(
      await node('A/B')
        .locator('.react-flow__handle.source')
        .evaluateAll((hs) => hs.map((h) => h.getAttribute('data-branch'))),
    ).toEqual(['a', 'b', 'c']);
    await expectAccessible('split form');

    // Connection points are labelled; with the keyboard alone a step is chosen, connected and disconnected.
    await page.getByRole('img', { name: 'Outgoing connection point, branch yes, of Is pro' }).waitFor();
    expect(await page.getByRole('img', { name: 'Outgoing connection point, branch yes, of Is pro' }).count()).toBe(1);
    expect(await page.getByRole('img', { name: 'Incoming connection point of A/B' }).count()).toBe(1);
    await page.getByRole('button', { name: 'Close' }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('button', { name: 'Trigger (Trigger)' }).focus();
    await page.keyboard.press('Enter');
    await page.getByLabel('Next step').selectOption({ label: 'Is pro' });
    await page.getByRole('button', { name: 'Connect', exact: true }).focus();
    await page.keyboard.press('Enter');
    const deleteButton = page.getByRole('button', { name: 'Delete the connection to Is pro' });
    await deleteButton.waitFor();
    const graph = async () => (await app.api.client.getWorkflow({ params: { id: workflow.id } })).transitions.map((t) => [t.fromStepId, t.toStepId, t.branch]);
    const ids = (await app.api.client.getWorkflow({ params: { id: workflow.id } })).steps;
    expect(await graph()).toEqual([[ids.find((s) => s.name === 'Trigger')!.id, ids.find((s) => s.name === 'Is pro')!.id, null]]);
    await deleteButton.focus();
    await page.keyboard.press('Enter');
    await deleteButton.waitFor({ state: 'detached' });
    expect(await graph()).toEqual([]);
    await expectAccessible('step panel with its connections');
    await page.getByRole('button', { name: 'Close' }).click();
    await openWithKeyboard(node('A/B'), 'Split: A/B');
  });

  it('keeps counts and a run current while the page is open, without losing an unsaved edit', async () => {
    const workflow = await app.api.client.createWorkflow({
      body: {
        name: 'Invoice chase',
        eventName: 'invoiced',
        steps: [
          { key: 'wait', type: 'WAIT_FOR_EVENT', name: 'Wait for payment', config: { eventName: 'paid' } },
          { key: 'done', type: 'EXIT', name: 'Paid', config: { reason: 'paid' } },
        ],
        transitions: [
          { from: 'trigger', to: 'wait' },
          { from: 'wait', to: 'done' },
        ],
      },
    });
    await app.api.client.updateWorkflow({ params: { id: workflow.id }, body: { enabled: true } });
    await page.goto(`${app.url}/app/workflows/${workflow.id}`);
    await node('Wait for payment').locator('[data-testid="step-active"]', { hasText: '0 active' }).waitFor();

    // An edit in progress in the side panel survives the counts moving under it.
    await node('Wait for payment').click();
    await page.getByLabel('Event name').fill('paid_in_full');
    const track = app.as(app.project.publicKey);
    expect((await track.post('/v1/track', { event: 'invoiced', email: 'lin@example.com', data: { plan: 'pro' } })).status).toBe(200);
    await node('Wait for payment').locator('[data-testid="step-active"]', { hasText: '1 active' }).waitFor({ timeout: 30_000 });
    expect(await page.locator('[data-testid="workflow-active"]').textContent()).toBe('1');
    expect(await page.getByLabel('Event name').inputValue()).toBe('paid_in_full');

    // The run's page follows it from waiting to its end.
    await page.getByRole('button', { name: 'Close' }).click();
    await page.locator('.executions a').first().click();
    await page.locator('[data-testid="execution-status"]', { hasText: 'WAITING' }).waitFor();
    expect((await track.post('/v1/track', { event: 'paid', email: 'lin@example.com' })).status).toBe(200);
    await page.locator('[data-testid="execution-status"]', { hasText: 'EXITED' }).waitFor({ timeout: 30_000 });
    await page.getByText('Exit reason: paid').waitFor();
    expect(await page.locator('[data-testid="execution-path"] .badge').allTextContents()).toEqual(['COMPLETED', 'COMPLETED', 'COMPLETED']);
    const runUrl = page.url();
    await expectAccessible('finished execution page');

    // The contact's page: data, tags, events newest first, and the run, linked back to its page.
    const lin = (await app.api.client.listContacts({ query: { search: 'lin@example.com' } })).data[0]!;
    await app.api.client.addContactTags({ params: { id: lin.id }, body: { tags: ['vip'] } });
    await page.getByRole('link', { name: 'view the contact' }).click();
    await page.getByRole('heading', { name: 'lin@example.com' }).waitFor();
    expect(page.url()).toBe(`${app.url}/app/contacts/${lin.id}`);
    expect(await page.locator('[data-testid="contact-subscribed"]').textContent()).toBe('Subscribed');
    expect(await page.locator('[data-testid="contact-data"] tbody td').allTextContents()).toEqual(['plan', '"pro"']);
    expect(await page.locator('[data-testid="contact-tags"] li').allTextContents()).toEqual(['vip']);
    const events = (await app.api.client.listEvents({ query: { contactId: lin.id } })).data.map((e) => e.name);
    expect(events.slice(-2)).toEqual(['paid', 'invoiced']);
    expect(await page.locator('[data-testid="contact-events"] tbody tr td:first-child').allTextContents()).toEqual(events);
    expect(await page.locator('[data-testid="contact-runs"] tbody tr td').allTextContents()).toEqual([
      'Invoice chase',
      'EXITED',
      expect.any(String),
      'View run of Invoice chase',
    ]);
    await expectAccessible('contact page');
    await page.getByRole('link', { name: 'View run of Invoice chase' }).click();
    await page.waitForURL(runUrl);
    await page.locator('[data-testid="execution-status"]', { hasText: 'EXITED' }).waitFor();
  });

  it('edits a template with a live preview of the unsaved content, then saves it', async () => {
    const templateId = await createTemplate(app.api, {
      name: 'Receipt',
      subject: 'Hi {{firstName ?? friend}}',
      body: '<p>Hello {{firstName ?? there}}</p>',
      type: 'TRANSACTIONAL',
    });
    await page.goto(`${app.url}/app/templates/${templateId}`);
    await page.getByRole('heading', { name: 'Template: Receipt' }).waitFor();
    const subject = page.locator('[data-testid="preview-subject"]');
    await subject.filter({ hasText: 'Hi Ada' }).waitFor();
    const html = page.frameLocator('iframe.preview-html');
    expect(await html.locator('p').first().textContent()).toBe('Hello Ada');

    // As typed, not saved: the preview follows the draft and the sample data.
    await page.getByLabel('Subject').fill('Your receipt, {{firstName}}');
    await subject.filter({ hasText: 'Your receipt, Ada' }).waitFor();
    await page.getByLabel('Sample contact data (JSON)').fill('{"firstName": "Grace"}');
    await subject.filter({ hasText: 'Your receipt, Grace' }).waitFor();
    await html.locator('p', { hasText: 'Hello Grace' }).waitFor();
    expect((await app.api.client.getTemplate({ params: { id: templateId } })).subject).toBe('Hi {{firstName ?? friend}}');

    // Liquid that does not parse is named at its field, before saving.
    await page.getByLabel('Body (HTML with Liquid)').fill('<p>Hello {% if %}</p>');
    await page.locator('#field-body[aria-invalid="true"]').waitFor();
    expect(await page.locator('#field-body-error').textContent()).toMatch(/line 1, column \d+/);
    await page.getByLabel('Body (HTML with Liquid)').fill('<p>Thanks, {{firstName}}</p>');
    await html.locator('p', { hasText: 'Thanks, Grace' }).waitFor();
    await expectAccessible('template editor');

    await page.getByRole('button', { name: 'Save template' }).click();
    await page.locator('.notice[role="status"]', { hasText: 'Saved.' }).waitFor();
    const saved = await app.api.client.getTemplate({ params: { id: templateId } });
    expect([saved.subject, saved.body, saved.type]).toEqual(['Your receipt, {{firstName}}', '<p>Thanks, {{firstName}}</p>', 'TRANSACTIONAL']);
    expect(await page.getByRole('button', { name: 'Save template' }).isDisabled()).toBe(true);
  });

  it('reloads an open page when the web app is rebuilt under npm run dev', async () => {
    const streams = createLiveReload();
    let opened = 0;
    const liveReload: LiveReload = {
      ...streams,
      subscribe(req, res) {
        opened += 1;
        streams.subscribe(req, res);
      },
    };
    const dev = await startTestApp({ start: { liveReload } });
    try {
      const devPage = await browser.newPage();
      await devPage.goto(`${dev.url}/app/#key=${dev.project.secretKey}`);
      await devPage.getByRole('heading', { name: 'Workflows' }).waitFor();
      // A mark on the page's global object: a reload takes it away.
      await devPage.evaluate(() => Object.assign(globalThis, { beforeRebuild: true }));
      // One announcement once the page holds its stream (announcing again while the page reloads
      // would reload it again).
      await waitFor(async () => opened === 1, 'the page to open its stream', 10_000);
      const reloaded = devPage.waitForEvent('load');
      liveReload.announce();
      await reloaded;
      expect(await devPage.evaluate(() => 'beforeRebuild' in globalThis)).toBe(false);
      await devPage.getByRole('heading', { name: 'Workflows' }).waitFor();
      await devPage.close();
      // Outside npm run dev there is no such stream, and the page is not told of one.
      const plain = await fetch(`${app.url}/app/workflows`);
      expect(await plain.text()).not.toContain('trellis-live-reload');
      expect((await fetch(`${app.url}/app/live-reload`)).headers.get('content-type')).toContain('text/html');
    } finally {
      await dev.close();
    }
  });
});
