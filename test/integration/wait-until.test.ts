import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWorkflow } from '../support/builders';
import { executionIn, finishedExecution } from '../support/executions';
import { moveClockTo, skipTo, startSkippingApp, type SkippingApp } from '../support/time-skipping';

/**
 * WAIT_UNTIL on the time-skipping server. Each test first moves the server's clock to a chosen local
 * moment (the clock only moves forward, so the tests go in calendar order), enrols a contact, and
 * checks the instant the step waits for and that the run resumes there.
 */
describe('WAIT_UNTIL: a time of day or a date from data, in the contact’s zone', () => {
  let app: SkippingApp;

  beforeAll(async () => {
    app = await startSkippingApp();
  });
  afterAll(async () => {
    await app?.close();
  });

  const moveClock = (local: string, zone: string) => moveClockTo(app.env, local, zone);

  /** A MANUAL workflow TRIGGER → WAIT_UNTIL → UPDATE_CONTACT, and one contact's execution of it. */
  async function enrol(config: Record<string, unknown>, data: Record<string, unknown>) {
    const wf = await buildWorkflow(app.api, {
      manual: true,
      steps: [
        { key: 'wait', type: 'WAIT_UNTIL', config },
        { key: 'after', type: 'UPDATE_CONTACT', config: { data: { resumed: true } } },
      ],
      edges: [
        ['trigger', 'wait'],
        ['wait', 'after'],
      ],
    });
    const contact = await app.api.client.createContact({ body: { email: `c${Math.random().toString(36).slice(2)}@example.com`, data } });
    const execution = await app.api.client.startExecution({ params: { id: wf.id }, body: { contactId: contact.id } });
    return { wf, execution };
  }

  /** Waits for the run to hold on WAIT_UNTIL, checks the instant, skips to it and checks the resume. */
  async function expectResumeAt(config: Record<string, unknown>, data: Record<string, unknown>, expectedUntil: string, zone: string) {
    const { wf, execution } = await enrol(config, data);
    const waiting = await executionIn(app.api, wf.id, execution.id, ['WAITING']);
    const step = waiting.steps[1];
    expect(step).toMatchObject({ type: 'WAIT_UNTIL', status: 'WAITING', output: { until: expectedUntil, zone } });
    const untilMs = Date.parse(expectedUntil);
    await skipTo(app.env, expectedUntil);
    const done = await finishedExecution(app.api, wf.id, execution.id);
    expect(done.status).toBe('COMPLETED');
    expect(done.steps.map((s: { type: string; status: string }) => `${s.type}:${s.status}`)).toEqual([
      'TRIGGER:COMPLETED',
      'WAIT_UNTIL:COMPLETED',
      'UPDATE_CONTACT:COMPLETED',
    ]);
    expect(done.steps[1].output).toEqual({ until: expectedUntil, zone, waited: true });
    // Resumed at the instant, not before (time skipped to it, then ran on in real time).
    const resumedAt = Date.parse(done.steps[1].completedAt);
    expect(resumedAt).toBeGreaterThanOrEqual(untilMs);
    expect(resumedAt - untilMs).toBeLessThan(10_000);
    expect(Date.parse(done.steps[2].startedAt)).toBeGreaterThanOrEqual(untilMs);
    return done;
  }

  it('waits until 09:00 the next morning in a zone ahead of UTC (Tokyo, +09:00)', async () => {
    await moveClock('2027-01-11T22:00', 'Asia/Tokyo');
    await expectResumeAt({ time: '09:00' }, { timezone: 'Asia/Tokyo' }, '2027-01-12T00:00:00.000Z', 'Asia/Tokyo');
  });

  it('waits until 07:30 in a zone behind UTC (Los Angeles, -08:00), read from the contact', async () => {
    // 20:00 on the 12th in Los Angeles is already 04:00 on the 13th in UTC.
    await moveClock('2027-01-12T20:00', 'America/Los_Angeles');
    await expectResumeAt({ time: '07:30', timezone: 'contact' }, { timezone: 'America/Los_Angeles' }, '2027-01-13T15:30:00.000Z', 'America/Los_Angeles');
  });

  it('waits for the next day of its weekday set (Thursday → Monday 10:00 in Paris)', async () => {
    await moveClock('2027-01-14T12:00', 'Europe/Paris');
    // The step's own zone wins over the contact's.
    await expectResumeAt(
      { time: '10:00', days: ['mon', 'wed'], timezone: 'Europe/Paris' },
      { timezone: 'Asia/Tokyo' },
      '2027-01-18T09:00:00.000Z',
      'Europe/Paris',
    );
  });

  it('moves a time inside the spring-forward gap to the first minute after it (02:30 → 03:00 EDT)', async () => {
    await moveClock('2027-03-13T12:00', 'America/New_York');
    await expectResumeAt({ time: '02:30', timezone: 'America/New_York' }, {}, '2027-03-14T07:00:00.000Z', 'America/New_York');
  });

  it('waits until 30 days before the service date in data, at 09:00 local', async () => {
    await moveClock('2027-04-01T12:00', 'UTC');
    await expectResumeAt(
      { date: '{{data.serviceDate}}', offset: { amount: 30, unit: 'days', direction: 'before' }, time: '09:00' },
      { timezone: 'Europe/Berlin', serviceDate: '2027-06-15' },
      '2027-05-16T07:00:00.000Z',
      'Europe/Berlin',
    );
  });

  it('continues at once when the moment has already passed', async () => {
    const before = await app.env.currentTimeMs();
    const { wf, execution } = await enrol(
      { date: '{{data.serviceDate}}', offset: { amount: 30, unit: 'days', direction: 'before' } },
      { serviceDate: '2027-05-20' },
    );
    const done = await finishedExecution(app.api, wf.id, execution.id);
    expect(done.status).toBe('COMPLETED');
    expect(done.steps[1]).toMatchObject({ type: 'WAIT_UNTIL', status: 'COMPLETED', output: { until: '2027-04-20T00:00:00.000Z', zone: 'UTC', waited: false } });
    // No time was skipped for it.
    expect((await app.env.currentTimeMs()) - before).toBeLessThan(60_000);
  });

  it('fails the step naming the path when the value is not a date', async () => {
    const { wf, execution } = await enrol({ date: '{{data.serviceDate}}' }, { serviceDate: 'soon' });
    const done = await finishedExecution(app.api, wf.id, execution.id);
    expect(done.status).toBe('FAILED');
    expect(done.error).toBe('step "wait" (WAIT_UNTIL) failed: data.serviceDate is not a date ("soon")');
    expect(done.steps[1]).toMatchObject({ type: 'WAIT_UNTIL', status: 'FAILED', error: 'data.serviceDate is not a date ("soon")' });
  });

  it('refuses a bad config with the path of every bad field', async () => {
    const wf = await buildWorkflow(app.api, { steps: [], edges: [], enabled: false });
    const res = await app.api.post(`/workflows/${wf.id}/steps`, {
      type: 'WAIT_UNTIL',
      config: { time: '25:00', timezone: 'Nowhere/Land', days: ['sun', 'sun'] },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.details).toEqual([
      { path: 'config.time', message: 'must be a time of day "HH:MM" (24-hour)' },
      { path: 'config.days', message: 'days must not repeat a day' },
      { path: 'config.timezone', message: 'timezone must be "contact" or an IANA time zone such as "Europe/Paris"' },
    ]);
  });
});
