import { randomUUID } from 'node:crypto';
import { ScheduleNotFoundError, ScheduleOverlapPolicy } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { scheduleIdOf } from '../../core/enrolment';
import { projectIdKey, workflowIdKey } from '../../temporal/search-attributes';
import type { ScratchDatabase } from '../../scripts/local-servers';
import { createSegment, insertContacts, privateDatabase } from '../support/audience';
import { buildWorkflow } from '../support/builders';
import { startTestApp, waitFor, type Api, type TestApp } from '../support/harness';
import { startTcpProxy } from '../support/tcp-proxy';

describe('SCHEDULE triggers on Temporal Schedules', () => {
  let database: ScratchDatabase;
  let app: TestApp;
  const taskQueue = `test-${randomUUID()}`;

  beforeAll(async () => {
    database = await privateDatabase();
    app = await startTestApp({ env: { DATABASE_URL: database.url, TEMPORAL_TASK_QUEUE: taskQueue } });
  });
  afterAll(async () => {
    await app?.close();
    await database?.drop();
  });

  const handleOf = (workflowId: string) => app.trellis.client.schedule.getHandle(scheduleIdOf(workflowId));
  const describeSchedule = (workflowId: string) => handleOf(workflowId).describe();
  async function scheduleGone(workflowId: string): Promise<boolean> {
    try {
      await describeSchedule(workflowId);
      return false;
    } catch (err) {
      if (err instanceof ScheduleNotFoundError) return true;
      throw err;
    }
  }

  /** A disabled MANUAL workflow TRIGGER → UPDATE_CONTACT, switched to a schedule and enabled. */
  async function scheduledWorkflow(api: Api, triggerConfig: Record<string, unknown>, options: { allowReentry?: boolean } = {}) {
    const wf = await buildWorkflow(api, {
      name: `scheduled ${randomUUID().slice(0, 6)}`,
      allowReentry: options.allowReentry,
      enabled: false,
      steps: [{ key: 'mark', type: 'UPDATE_CONTACT', config: { data: { ticked: true } } }],
      edges: [['trigger', 'mark']],
    });
    const patched = await api.patch(`/workflows/${wf.id}`, { triggerType: 'SCHEDULE', triggerConfig, enabled: true });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    return wf;
  }

  /** Every tick enrolment of a workflow, oldest first, once each has finished. */
  async function finishedTicks(workflowId: string, count: number): Promise<any[]> {
    return waitFor(async () => {
      const { rows } = await app.trellis.database.pool.query(
        `select id, status, enrolled, skipped, scheduled_at from enrolments where workflow_id = $1 and source = 'SCHEDULE' order by scheduled_at`,
        [workflowId],
      );
      return rows.length >= count && rows.every((r) => r.status !== 'RUNNING') ? rows : undefined;
    }, `${count} finished tick(s)`);
  }

  async function executionsOf(api: Api, workflowId: string, total: number): Promise<any[]> {
    return waitFor(async () => {
      const r = await api.get(`/workflows/${workflowId}/executions?pageSize=100`);
      return r.body.total === total && r.body.data.every((e: any) => e.status === 'COMPLETED') ? r.body.data : undefined;
    }, `${total} completed execution(s)`);
  }

  it('refuses a bad cron, a bad time zone and an unknown segment, naming the field', async () => {
    const { api } = app;
    const wf = await buildWorkflow(api, { enabled: false, steps: [], edges: [] });
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ cron: '61 * * * *' }, 'triggerConfig.cron', /invalid cron expression: Invalid value for minute: 61/],
      [{ cron: '* * * *' }, 'triggerConfig.cron', /expected 5 fields/],
      [{ cron: '0 0 L * *' }, 'triggerConfig.cron', /"L" is not a value, range or step/],
      [{ cron: '0 0 30 2 *' }, 'triggerConfig.cron', /never matches/],
      [{ cron: '@every 5m' }, 'triggerConfig.cron', /unknown shorthand/],
      [{ cron: '0 9 * * *', timezone: 'Mars/Olympus' }, 'triggerConfig.timezone', /"Mars\/Olympus" is not an IANA time zone/],
      [{ cron: '0 9 * * *', segmentId: randomUUID() }, 'triggerConfig.segmentId', /no such segment/],
      [{ cron: '0 9 * * *', segmentId: 'everyone' }, 'triggerConfig.segmentId', /must be a segment id/],
      [{}, 'triggerConfig.cron', /expected string/],
    ];
    for (const [triggerConfig, path, message] of cases) {
      const r = await api.patch(`/workflows/${wf.id}`, { triggerType: 'SCHEDULE', triggerConfig });
      expect(r.status, JSON.stringify(triggerConfig)).toBe(400);
      expect(r.body.error.code).toBe('VALIDATION_ERROR');
      expect(r.body.error.details).toHaveLength(1);
      expect(r.body.error.details[0].path).toBe(path);
      expect(r.body.error.details[0].message).toMatch(message);
    }
    // A segment of another project is unknown here.
    const other = await app.newProject('other');
    const foreign = await createSegment(other.api, database.url, []);
    const r = await api.patch(`/workflows/${wf.id}`, { triggerType: 'SCHEDULE', triggerConfig: { cron: '0 9 * * *', segmentId: foreign } });
    expect(r.status).toBe(400);
    expect(r.body.error.details).toEqual([{ path: 'triggerConfig.segmentId', message: 'no such segment in this project' }]);
    expect((await api.get(`/workflows/${wf.id}`)).body.triggerType).toBe('EVENT');
  });

  it('enrols every subscribed contact on a tick, with {scheduledAt}, and nobody again on the next under allowReentry:false', async () => {
    const project = await app.newProject('tick');
    const api = project.api;
    const subscribed = await insertContacts(database.url, project.id, 3);
    const [unsubscribed] = await insertContacts(database.url, project.id, 1, { subscribed: false });
    const wf = await scheduledWorkflow(api, { cron: '* * * * *' });

    const description = await describeSchedule(wf.id);
    expect(description.state.paused).toBe(false);
    expect(description.policies.overlap).toBe(ScheduleOverlapPolicy.SKIP);
    // Ticks run on the enrolments' own task queue, never behind the executions they start.
    expect(description.action).toMatchObject({ workflowType: 'audienceEnrolment', taskQueue: `${taskQueue}-enrolment`, args: [{ tickOf: wf.id }] });
    expect(description.spec.timezone).toBe('UTC');
    // Findable in the Web UI's Schedules page, and so is every tick's run.
    expect(description.typedSearchAttributes.get(workflowIdKey)).toBe(wf.id);
    expect(description.typedSearchAttributes.get(projectIdKey)).toBe(project.id);

    // SKIP, as the schedule's own ticks: should the one-minute cron fire at the same moment, one of
    // the two runs and the other is skipped.
    await handleOf(wf.id).trigger(ScheduleOverlapPolicy.SKIP);
    const executions = await executionsOf(api, wf.id, 3);
    const ticks = await finishedTicks(wf.id, 1);
    const first = ticks.find((t) => t.enrolled > 0);
    expect([first.status, first.enrolled, first.skipped]).toEqual(['COMPLETED', 3, 0]);
    expect(executions.map((e) => e.contactId).sort()).toEqual([...subscribed].sort());
    expect(executions.map((e) => e.contactId)).not.toContain(unsubscribed);
    const scheduledAt = new Date(first.scheduled_at).toISOString();
    for (const e of executions) expect(e.context).toEqual({ scheduledAt });
    const contact = await api.get(`/contacts/${subscribed[0]}`);
    expect(contact.body.data).toEqual({ ticked: true });
    const query = `WorkflowType='audienceEnrolment' AND TrellisWorkflowId='${wf.id}' AND TrellisProjectId='${project.id}'`;
    const runs = await waitFor(async () => {
      const found = [];
      for await (const run of app.trellis.client.workflow.list({ query })) found.push(run);
      return found.length >= 1 ? found : undefined;
    }, 'the tick run listed by its search attributes');
    expect(runs[0]!.workflowId.startsWith(`trellis-tick-${wf.id}`)).toBe(true);

    const { schedule } = (await api.get(`/workflows/${wf.id}`)).body;
    expect(schedule.nextRuns).toHaveLength(3);
    const latest = ticks[ticks.length - 1];
    expect(schedule.lastTick).toEqual({
      enrolmentId: latest.id,
      scheduledAt: new Date(latest.scheduled_at).toISOString(),
      enrolled: latest.enrolled,
      skipped: latest.skipped,
      status: 'COMPLETED',
    });

    // The first tick's run closes in Temporal just after its enrolment finishes in Postgres. (The
    // schedule may learn of that close later still and skip a SKIP trigger: this one always runs.)
    await waitFor(async () => (await describeSchedule(wf.id)).info.runningActions.length === 0, 'no tick running');
    // A tick's Temporal id ends in its scheduled second: a trigger within the same second as the
    // last one would reuse that id, so the next one waits for the next second.
    const nextSecond = Math.floor(Date.parse(latest.scheduled_at) / 1000) * 1000 + 1000;
    await waitFor(async () => Date.now() >= nextSecond, 'the next second');
    await handleOf(wf.id).trigger(ScheduleOverlapPolicy.ALLOW_ALL);
    const later = await finishedTicks(wf.id, ticks.length + 1);
    // Every tick after the first (the test's or the cron's own) enrols nobody.
    for (const t of later.filter((t) => t.id !== first.id)) expect([t.status, t.enrolled, t.skipped]).toEqual(['COMPLETED', 0, 3]);
    expect((await api.get(`/workflows/${wf.id}/executions`)).body.total).toBe(3);
  });

  it("enrols only the subscribed members of the schedule's segment", async () => {
    const project = await app.newProject('segment tick');
    const api = project.api;
    const [member, outsider] = await insertContacts(database.url, project.id, 2);
    const [unsubscribedMember] = await insertContacts(database.url, project.id, 1, { subscribed: false });
    const segmentId = await createSegment(api, database.url, [member!, unsubscribedMember!]);
    const wf = await scheduledWorkflow(api, { cron: '0 9 * * *', segmentId });

    await handleOf(wf.id).trigger();
    const [tick] = await finishedTicks(wf.id, 1);
    expect([tick.status, tick.enrolled, tick.skipped]).toEqual(['COMPLETED', 1, 0]);
    const executions = await executionsOf(api, wf.id, 1);
    expect(executions.map((e) => e.contactId)).toEqual([member]);
    expect(executions.map((e) => e.contactId)).not.toContain(outsider);
  });

  it('pauses, resumes, updates and removes the schedule with the workflow', async () => {
    const { api } = app;
    const wf = await scheduledWorkflow(api, { cron: '*/5 * * * *' });
    expect((await describeSchedule(wf.id)).state.paused).toBe(false);
    const { version } = (await api.get(`/workflows/${wf.id}`)).body;

    expect((await api.patch(`/workflows/${wf.id}`, { enabled: false })).status).toBe(200);
    expect((await describeSchedule(wf.id)).state.paused).toBe(true);
    expect((await api.get(`/workflows/${wf.id}`)).body.schedule.nextRuns).toEqual([]);

    expect((await api.patch(`/workflows/${wf.id}`, { enabled: true })).status).toBe(200);
    expect((await describeSchedule(wf.id)).state.paused).toBe(false);

    const changed = await api.patch(`/workflows/${wf.id}`, { triggerConfig: { cron: '30 9 * * 1', timezone: 'europe/paris' } });
    expect(changed.status, JSON.stringify(changed.body)).toBe(200);
    expect(changed.body.triggerConfig).toEqual({ cron: '30 9 * * 1', timezone: 'Europe/Paris' });
    expect(changed.body.version).toBe(version + 1);
    const updated = await describeSchedule(wf.id);
    expect(updated.spec.timezone).toBe('Europe/Paris');
    expect(updated.spec.calendars).toEqual([
      expect.objectContaining({
        minute: [{ start: 30, end: 30, step: 1 }],
        hour: [{ start: 9, end: 9, step: 1 }],
        dayOfWeek: [{ start: 'MONDAY', end: 'MONDAY', step: 1 }],
      }),
    ]);
    // Monday 09:30 in Paris, in winter UTC+1 and in summer UTC+2.
    const { nextRuns } = (await api.get(`/workflows/${wf.id}`)).body.schedule;
    expect(nextRuns).toHaveLength(3);
    for (const run of nextRuns) {
      const d = new Date(run);
      expect(d.getUTCDay()).toBe(1);
      expect([`07:30`, `08:30`]).toContain(run.slice(11, 16));
    }
    expect(new Date(nextRuns[1]).getTime() - new Date(nextRuns[0]).getTime()).toBeGreaterThanOrEqual(7 * 24 * 3600_000 - 3600_000);

    expect((await api.patch(`/workflows/${wf.id}`, { triggerType: 'MANUAL', triggerConfig: {} })).status).toBe(200);
    expect(await scheduleGone(wf.id)).toBe(true);

    expect((await api.patch(`/workflows/${wf.id}`, { triggerType: 'SCHEDULE', triggerConfig: { cron: '@daily' } })).status).toBe(200);
    expect((await describeSchedule(wf.id)).state.paused).toBe(false);

    expect((await api.delete(`/workflows/${wf.id}`)).status).toBe(204);
    expect(await scheduleGone(wf.id)).toBe(true);
  });

  it('creates no schedule for a disabled SCHEDULE workflow until it is enabled', async () => {
    const { api } = app;
    const wf = await buildWorkflow(api, { enabled: false, steps: [], edges: [] });
    expect((await api.patch(`/workflows/${wf.id}`, { triggerType: 'SCHEDULE', triggerConfig: { cron: '@hourly' } })).status).toBe(200);
    expect(await scheduleGone(wf.id)).toBe(true);
    expect((await api.patch(`/workflows/${wf.id}`, { enabled: true })).status).toBe(200);
    expect((await describeSchedule(wf.id)).state.paused).toBe(false);
  });

  it('locks the schedule of an enabled workflow with active executions, like any trigger change', async () => {
    const project = await app.newProject('locked');
    const api = project.api;
    await insertContacts(database.url, project.id, 1);
    const wf = await buildWorkflow(api, {
      enabled: false,
      steps: [{ key: 'wait', type: 'DELAY', config: { amount: 1, unit: 'days' } }],
      edges: [['trigger', 'wait']],
    });
    expect((await api.patch(`/workflows/${wf.id}`, { triggerType: 'SCHEDULE', triggerConfig: { cron: '0 9 * * *' }, enabled: true })).status).toBe(200);
    await handleOf(wf.id).trigger();
    await waitFor(async () => (await api.get(`/workflows/${wf.id}/executions?status=WAITING`)).body.total === 1, 'a waiting execution');

    const refused = await api.patch(`/workflows/${wf.id}`, { triggerConfig: { cron: '0 10 * * *' } });
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('WORKFLOW_LOCKED');
    expect((await api.post(`/workflows/${wf.id}/executions/cancel-all`)).body.cancelled).toBe(1);
  });

  it('recreates at start a schedule deleted behind its back, and deletes one whose workflow is gone', async () => {
    const { api } = app;
    const wf = await scheduledWorkflow(api, { cron: '0 9 * * *' });
    await handleOf(wf.id).delete();
    expect(await scheduleGone(wf.id)).toBe(true);

    const stray = randomUUID();
    await app.trellis.client.schedule.create({
      scheduleId: scheduleIdOf(stray),
      spec: { cronExpressions: ['0 9 * * *'] },
      action: { type: 'startWorkflow', workflowType: 'audienceEnrolment', taskQueue, args: [{ tickOf: stray }] },
    });

    // Another process of the same installation starts (an API process: same database and task queue).
    const restarted = await startTestApp({
      env: { DATABASE_URL: database.url, TEMPORAL_TASK_QUEUE: taskQueue, ROLE: 'api' },
      // Schedule lists are eventually consistent: a fresh stray may show only in a later pass.
      start: { reconcileEveryMs: 1000 },
    });
    try {
      const recreated = await waitFor(async () => ((await scheduleGone(wf.id)) ? undefined : describeSchedule(wf.id)), 'the schedule recreated');
      expect(recreated.state.paused).toBe(false);
      expect(recreated.action).toMatchObject({ workflowType: 'audienceEnrolment', taskQueue: `${taskQueue}-enrolment`, args: [{ tickOf: wf.id }] });
      await waitFor(() => scheduleGone(stray), 'the stray schedule deleted');
    } finally {
      await restarted.close();
    }
  });

  it('heals a schedule change that Temporal missed while it was unreachable', async () => {
    // An API process that reaches Temporal through a proxy the test takes down.
    const proxy = await startTcpProxy(inject('temporalAddress'));
    const viaProxy = await startTestApp({
      env: { DATABASE_URL: database.url, TEMPORAL_TASK_QUEUE: taskQueue, ROLE: 'api', TEMPORAL_ADDRESS: proxy.address },
      start: { reconcileEveryMs: 1000 },
    });
    try {
      const wf = await scheduledWorkflow(viaProxy.api, { cron: '0 9 * * *' });
      expect((await describeSchedule(wf.id)).state.paused).toBe(false);

      proxy.down();
      const disabled = await viaProxy.api.patch(`/workflows/${wf.id}`, { enabled: false });
      expect(disabled.status).toBe(200);
      expect(disabled.body.enabled).toBe(false);
      expect((await describeSchedule(wf.id)).state.paused).toBe(false);

      proxy.up();
      await waitFor(async () => (await describeSchedule(wf.id)).state.paused, 'the schedule paused by a reconcile', 30_000);
    } finally {
      await viaProxy.close();
      await proxy.close();
    }
  }, 60_000);
});
