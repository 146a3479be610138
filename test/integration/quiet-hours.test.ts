import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWorkflow, createTemplate } from '../support/builders';
import { executionIn, finishedExecution } from '../support/executions';
import { moveClockTo, skipTo, startSkippingApp, type SkippingApp } from '../support/time-skipping';

/**
 * Quiet hours on the time-skipping server: 21:00–08:00 in the contact's zone (Paris, +01:00 in
 * January). The send times asserted are Temporal's own: when it recorded each attempt to send.
 */
describe('quiet hours hold marketing sends until the window opens in the contact’s zone', () => {
  let app: SkippingApp;
  const PARIS = 'Europe/Paris';

  beforeAll(async () => {
    app = await startSkippingApp();
    await app.api.client.updateSettings({ body: { quietHours: { start: '21:00', end: '08:00' } } });
    await moveClockTo(app.env, '2027-01-11T22:00', PARIS);
  });
  afterAll(async () => {
    await app?.close();
  });

  /** A MANUAL workflow that sends one email of a template of `type`, and one Paris contact's execution of it. */
  async function sendAt22(type: 'MARKETING' | 'TRANSACTIONAL', workflow: { ignoreQuietHours?: boolean } = {}) {
    const templateId = await createTemplate(app.api, { subject: `${type} news`, body: '<p>hello</p>', type });
    const wf = await buildWorkflow(app.api, {
      manual: true,
      steps: [{ key: 'send', type: 'SEND_EMAIL', config: { templateId } }],
      edges: [['trigger', 'send']],
    });
    if (workflow.ignoreQuietHours) await app.api.client.updateWorkflow({ params: { id: wf.id }, body: { ignoreQuietHours: true } });
    const contact = await app.api.client.createContact({ body: { email: `${type.toLowerCase()}-${wf.id}@example.com`, data: { timezone: PARIS } } });
    const execution = await app.api.client.startExecution({ params: { id: wf.id }, body: { contactId: contact.id } });
    return { wf, execution };
  }

  /**
   * When Temporal recorded each attempt of the execution's sendEmail activity (ms): the local first
   * attempt's marker, or an activity task's scheduling.
   */
  async function sendTimes(executionId: string): Promise<number[]> {
    const history = await app.env.client.workflow.getHandle(`trellis-execution-${executionId}`).fetchHistory();
    const localType = (e: (typeof history.events & object)[number]) => {
      const marker = e.markerRecordedEventAttributes;
      if (marker?.markerName !== 'core_local_activity') return undefined;
      return JSON.parse(Buffer.from(marker.details!.data!.payloads![0]!.data!).toString()).activity_type as string;
    };
    return (history.events ?? [])
      .filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'sendEmail' || localType(e) === 'sendEmail')
      .map((e) => Number(e.eventTime!.seconds) * 1000 + Math.floor((e.eventTime!.nanos ?? 0) / 1e6));
  }

  it('holds a marketing email sent at 22:00 local until exactly 08:00, WAITING meanwhile', async () => {
    const { wf, execution } = await sendAt22('MARKETING');
    const held = await executionIn(app.api, wf.id, execution.id, ['WAITING']);
    const until = '2027-01-12T07:00:00.000Z'; // 08:00 in Paris
    expect(held.steps[1]).toMatchObject({ type: 'SEND_EMAIL', status: 'WAITING', output: { heldForQuietHoursUntil: until, zone: PARIS } });
    expect((await app.api.client.listEmails({ query: { executionId: execution.id } })).total).toBe(0);
    // The Web UI's current details say why it waits.
    const handle = app.env.client.workflow.getHandle(`trellis-execution-${execution.id}`);
    const metadata = (await handle.query('__temporal_workflow_metadata')) as { currentDetails: string };
    expect(metadata.currentDetails).toBe(`**send** (SEND_EMAIL) — held for quiet hours until ${until} (${PARIS}), step 1`);

    await skipTo(app.env, until);
    const done = await finishedExecution(app.api, wf.id, execution.id);
    expect(done.status).toBe('COMPLETED');
    expect(done.steps[1]).toMatchObject({ type: 'SEND_EMAIL', status: 'COMPLETED', output: { status: 'CAPTURED' } });
    const emails = await app.api.client.listEmails({ query: { executionId: execution.id } });
    expect(emails.data.map((e) => e.status)).toEqual(['CAPTURED']);
    const [first, second, ...more] = await sendTimes(execution.id);
    expect(more).toEqual([]);
    expect(first).toBeLessThan(Date.parse('2027-01-11T21:01:00Z')); // tried at 22:00 Paris, held
    expect(second).toBeGreaterThanOrEqual(Date.parse(until)); // sent at 08:00 Paris
    expect(second! - Date.parse(until)).toBeLessThan(10_000);
  });

  it('lets a transactional email through at once', async () => {
    await moveClockTo(app.env, '2027-01-12T22:00', PARIS);
    const { wf, execution } = await sendAt22('TRANSACTIONAL');
    const done = await finishedExecution(app.api, wf.id, execution.id);
    expect(done.steps.map((s: { type: string; status: string }) => `${s.type}:${s.status}`)).toEqual(['TRIGGER:COMPLETED', 'SEND_EMAIL:COMPLETED']);
    const [sent, ...more] = await sendTimes(execution.id);
    expect(more).toEqual([]);
    expect(sent).toBeGreaterThanOrEqual(Date.parse('2027-01-12T21:00:00Z'));
    expect(sent).toBeLessThan(Date.parse('2027-01-12T21:01:00Z'));
    expect((await app.api.client.listEmails({ query: { executionId: execution.id } })).data.map((e) => e.status)).toEqual(['CAPTURED']);
  });

  it('lets a marketing email through when its workflow ignores quiet hours', async () => {
    const { wf, execution } = await sendAt22('MARKETING', { ignoreQuietHours: true });
    const done = await finishedExecution(app.api, wf.id, execution.id);
    expect(done.status).toBe('COMPLETED');
    expect(await sendTimes(execution.id)).toHaveLength(1);
  });
});
