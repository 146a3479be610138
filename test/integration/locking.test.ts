import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWorkflow, createTemplate } from '../support/builders';
import { executionIn, onlyExecution } from '../support/executions';
import { startTestApp, waitFor, type Api, type ApiResponse, type TestApp } from '../support/harness';
import { startSmtp, type TestSmtp } from '../support/smtp';

function expectLocked(res: ApiResponse, active: number, what: string): void {
  expect(res.status, `${what}: ${JSON.stringify(res.body)}`).toBe(409);
  expect(res.body.error.code, what).toBe('WORKFLOW_LOCKED');
  expect(res.body.error.details).toMatchObject({ activeExecutions: active });
  expect(res.body.error.message).toMatch(/disable/i);
  expect(res.body.error.message).toMatch(/cancel/i);
}

describe('locking (SPEC §9)', () => {
  let app: TestApp;
  let api: Api;
  let smtp: TestSmtp;

  beforeAll(async () => {
    smtp = await startSmtp();
    app = await startTestApp({ env: { SMTP_URL: smtp.url, MAIL_FROM: 'Trellis <hello@trellis.test>' } });
    api = app.api;
  });
  afterAll(async () => {
    await app?.close();
    await smtp?.close();
  });

  async function execution(workflowId: string, id: string) {
    return (await api.get(`/workflows/${workflowId}/executions/${id}`)).body;
  }

  it('locks structure while enabled with an active execution; the in-flight run finishes on its own graph', async () => {
    const oldTemplate = await createTemplate(api, { name: 'old', subject: 'Old subject', body: '<p>old</p>' });
    const newTemplate = await createTemplate(api, { name: 'new', subject: 'New subject', body: '<p>new</p>' });
    const wf = await buildWorkflow(api, {
      eventName: 'lock.start',
      steps: [
        { key: 'wait', type: 'WAIT_FOR_EVENT', config: { eventName: 'lock.release' } },
        { key: 'send', type: 'SEND_EMAIL', config: { templateId: oldTemplate } },
        { key: 'spare', type: 'EXIT' },
      ],
      edges: [
        ['trigger', 'wait'],
        ['wait', 'send'],
      ],
    });
    const a = await api.post('/v1/track', { event: 'lock.start', email: 'lock-a@example.com' });
    expect(a.status).toBe(200);
    const first = await onlyExecution(api, wf.id, a.body.data.contact);
    await executionIn(api, wf.id, first.id, ['WAITING']);

    const before = (await api.get(`/workflows/${wf.id}`)).body;
    const v = before.version;
    expect(first.workflowVersion).toBe(v);
    const waitToSend = before.transitions.find((t: { fromStepId: string }) => t.fromStepId === wf.steps.wait).id;

    // Every structural edit is refused with the active count.
    expectLocked(await api.post(`/workflows/${wf.id}/steps`, { type: 'EXIT', config: {} }), 1, 'add step');
    expectLocked(await api.delete(`/workflows/${wf.id}/steps/${wf.steps.spare}`), 1, 'delete step');
    expectLocked(await api.delete(`/workflows/${wf.id}/steps/${wf.steps.spare}?splice=true`), 1, 'splice step');
    expectLocked(await api.patch(`/workflows/${wf.id}/steps/${wf.steps.send}`, { config: { templateId: newTemplate } }), 1, 'change config');
    expectLocked(await api.patch(`/workflows/${wf.id}/steps/${wf.steps.send}`, { name: 'renamed', config: { templateId: newTemplate } }), 1, 'config + name');
    expectLocked(await api.post(`/workflows/${wf.id}/transitions`, { fromStepId: wf.steps.send, toStepId: wf.steps.spare }), 1, 'add transition');
    expectLocked(await api.delete(`/workflows/${wf.id}/transitions/${waitToSend}`), 1, 'delete transition');
    expectLocked(await api.patch(`/workflows/${wf.id}`, { triggerType: 'MANUAL', triggerConfig: {} }), 1, 'trigger type');
    expectLocked(await api.patch(`/workflows/${wf.id}`, { triggerType: 'MANUAL' }), 1, 'trigger type alone');
    expectLocked(await api.patch(`/workflows/${wf.id}`, { name: 'half applied?', triggerType: 'MANUAL' }), 1, 'cosmetic + structural');
    // The event name cannot change at all now that an execution exists.
    const rename = await api.patch(`/workflows/${wf.id}`, { triggerConfig: { eventName: 'lock.other' } });
    expect(rename.status).toBe(409);
    expect(rename.body.error.code).toBe('TRIGGER_EVENT_IMMUTABLE');
    expect((await api.get(`/workflows/${wf.id}`)).body).toEqual(before);

    // Cosmetic edits go through and keep the version.
    const renamed = await api.patch(`/workflows/${wf.id}`, { name: 'Locked but renamed', description: 'still cosmetic', allowReentry: true });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({ name: 'Locked but renamed', description: 'still cosmetic', allowReentry: true, enabled: true, version: v });
    expect((await api.patch(`/workflows/${wf.id}`, { allowReentry: false })).body.allowReentry).toBe(false);
    const step = await api.patch(`/workflows/${wf.id}/steps/${wf.steps.send}`, { name: 'Send the old one', position: { x: 120, y: 40 } });
    expect(step.status).toBe(200);
    expect(step.body).toMatchObject({ name: 'Send the old one', position: { x: 120, y: 40 }, config: { templateId: oldTemplate } });
    // Restating the current trigger or config (a client saving a whole form) is no structural edit.
    const restated = await api.patch(`/workflows/${wf.id}`, { name: 'Saved form', triggerType: 'EVENT', triggerConfig: { eventName: 'lock.start' } });
    expect(restated.status).toBe(200);
    expect(restated.body).toMatchObject({ name: 'Saved form', version: v });
    const sameConfig = await api.patch(`/workflows/${wf.id}/steps/${wf.steps.send}`, { name: 'Send the old one', config: { templateId: oldTemplate } });
    expect(sameConfig.status).toBe(200);
    const template = await api.patch(`/templates/${oldTemplate}`, { subject: 'Old subject, edited' });
    expect(template.status).toBe(200);
    expect((await api.get(`/workflows/${wf.id}`)).body.version).toBe(v);

    // Disabling unlocks: each structural edit now succeeds and counts as a version.
    const disabled = await api.patch(`/workflows/${wf.id}`, { enabled: false });
    expect(disabled.body).toMatchObject({ enabled: false, version: v });
    const edits: (() => Promise<ApiResponse>)[] = [
      () => api.patch(`/workflows/${wf.id}/steps/${wf.steps.send}`, { config: { templateId: newTemplate } }),
      () => api.post(`/workflows/${wf.id}/steps`, { type: 'UPDATE_CONTACT', name: 'tag', config: { data: { graph: 'new' } } }),
      () => api.delete(`/workflows/${wf.id}/transitions/${waitToSend}`),
      () => api.delete(`/workflows/${wf.id}/steps/${wf.steps.spare}`),
    ];
    let version = v;
    let updateStep = '';
    for (const edit of edits) {
      const r = await edit();
      expect(r.status, JSON.stringify(r.body)).toBeLessThan(300);
      if (r.body?.type === 'UPDATE_CONTACT') updateStep = r.body.id;
      version += 1;
      expect((await api.get(`/workflows/${wf.id}`)).body.version).toBe(version);
    }
    for (const [from, to] of [
      [wf.steps.wait, updateStep],
      [updateStep, wf.steps.send],
    ]) {
      expect((await api.post(`/workflows/${wf.id}/transitions`, { fromStepId: from, toStepId: to })).status).toBe(201);
      version += 1;
    }
    const edited = (await api.get(`/workflows/${wf.id}`)).body;
    expect(edited.version).toBe(version);
    expect(edited.version).toBe(v + 6);

    // The waiting execution, released, follows the graph it enrolled under.
    expect((await api.post('/v1/track', { event: 'lock.release', email: 'lock-a@example.com' })).status).toBe(200);
    const finished = await executionIn(api, wf.id, first.id, ['COMPLETED']);
    expect(finished.workflowVersion).toBe(v);
    expect(finished.steps.map((s: { type: string }) => s.type)).toEqual(['TRIGGER', 'WAIT_FOR_EVENT', 'SEND_EMAIL']);
    const mailA = await waitFor(async () => smtp.messages.find((m) => m.to.includes('lock-a@example.com')), 'the mail to a');
    expect(mailA.parsed.subject).toBe('Old subject, edited');
    expect((await api.get(`/contacts/${a.body.data.contact}`)).body.data).toEqual({});

    // A new enrolment after re-enabling follows the new graph.
    expect((await api.patch(`/workflows/${wf.id}`, { enabled: true })).body.version).toBe(v + 6);
    const b = await api.post('/v1/track', { event: 'lock.start', email: 'lock-b@example.com' });
    const second = await onlyExecution(api, wf.id, b.body.data.contact);
    expect(second.workflowVersion).toBe(v + 6);
    expect(second.workflowVersion).not.toBe(finished.workflowVersion);
    await executionIn(api, wf.id, second.id, ['WAITING']);
    expect((await api.post('/v1/track', { event: 'lock.release', email: 'lock-b@example.com' })).status).toBe(200);
    const done = await executionIn(api, wf.id, second.id, ['COMPLETED']);
    expect(done.steps.map((s: { type: string }) => s.type)).toEqual(['TRIGGER', 'WAIT_FOR_EVENT', 'UPDATE_CONTACT', 'SEND_EMAIL']);
    const mailB = await waitFor(async () => smtp.messages.find((m) => m.to.includes('lock-b@example.com')), 'the mail to b');
    expect(mailB.parsed.subject).toBe('New subject');
    expect((await api.get(`/contacts/${b.body.data.contact}`)).body.data).toEqual({ graph: 'new' });
    expect(smtp.messages.filter((m) => m.to.includes('lock-a@example.com'))).toHaveLength(1);

    // Nothing active any more: structural edits pass while enabled.
    expect((await api.post(`/workflows/${wf.id}/steps`, { type: 'EXIT', config: {} })).status).toBe(201);
  });

  it('unlocks once cancel-all has cancelled the active executions', async () => {
    const wf = await buildWorkflow(api, {
      eventName: 'lock.cancel',
      steps: [{ key: 'delay', type: 'DELAY', config: { amount: 3, unit: 'days' } }],
      edges: [['trigger', 'delay']],
    });
    const ids: string[] = [];
    for (const who of ['c1', 'c2']) {
      const r = await api.post(`/workflows/${wf.id}/executions`, { email: `lock-${who}-${randomUUID()}@example.com` });
      expect(r.status).toBe(201);
      ids.push(r.body.id);
    }
    for (const id of ids) await executionIn(api, wf.id, id, ['WAITING']);
    const v = (await api.get(`/workflows/${wf.id}`)).body.version;
    expectLocked(await api.post(`/workflows/${wf.id}/steps`, { type: 'EXIT', config: {} }), 2, 'add step');
    expectLocked(await api.patch(`/workflows/${wf.id}/steps/${wf.steps.delay}`, { config: { amount: 1, unit: 'days' } }), 2, 'change config');

    const cancelled = await api.post(`/workflows/${wf.id}/executions/cancel-all`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toEqual({ cancelled: 2 });
    for (const id of ids) expect((await execution(wf.id, id)).status).toBe('CANCELLED');

    const changed = await api.patch(`/workflows/${wf.id}/steps/${wf.steps.delay}`, { config: { amount: 1, unit: 'days' } });
    expect(changed.status).toBe(200);
    expect(changed.body.config).toEqual({ amount: 1, unit: 'days' });
    const wfAfter = (await api.get(`/workflows/${wf.id}`)).body;
    expect(wfAfter).toMatchObject({ enabled: true, version: v + 1 });
  });

  it('refuses to change the trigger event name once any execution exists (409 TRIGGER_EVENT_IMMUTABLE)', async () => {
    const fresh = await buildWorkflow(api, { eventName: 'lock.name.a', steps: [], edges: [] });
    const renamed = await api.patch(`/workflows/${fresh.id}`, { triggerConfig: { eventName: 'lock.name.b' } });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({ triggerConfig: { eventName: 'lock.name.b' }, version: 2 });

    // A run that completes at once: nothing is active, the workflow is not locked.
    const tracked = await api.post('/v1/track', { event: 'lock.name.b', email: `lock-name-${randomUUID()}@example.com` });
    const only = await onlyExecution(api, fresh.id, tracked.body.data.contact);
    await executionIn(api, fresh.id, only.id, ['COMPLETED']);
    expect((await api.post('/v1/track', { event: 'lock.name.a', email: `lock-name-${randomUUID()}@example.com` })).status).toBe(200);
    expect((await api.get(`/workflows/${fresh.id}/executions`)).body.total).toBe(1);

    for (const enabled of [true, false]) {
      expect((await api.patch(`/workflows/${fresh.id}`, { enabled })).status).toBe(200);
      const refused = await api.patch(`/workflows/${fresh.id}`, { triggerConfig: { eventName: 'lock.name.c' } });
      expect(refused.status).toBe(409);
      expect(refused.body.error.code).toBe('TRIGGER_EVENT_IMMUTABLE');
      expect(refused.body.error.message).toMatch(/duplicate/i);
    }
    const unchanged = (await api.get(`/workflows/${fresh.id}`)).body;
    expect(unchanged).toMatchObject({ triggerType: 'EVENT', triggerConfig: { eventName: 'lock.name.b' }, version: 2 });
    // Restating the same name is no change; switching the trigger type is a structural edit, allowed when unlocked.
    const same = await api.patch(`/workflows/${fresh.id}`, { triggerConfig: { eventName: 'lock.name.b' } });
    expect(same.status).toBe(200);
    expect(same.body.version).toBe(2);
    const manual = await api.patch(`/workflows/${fresh.id}`, { triggerType: 'MANUAL', triggerConfig: {} });
    expect(manual.status).toBe(200);
    expect(manual.body).toMatchObject({ triggerType: 'MANUAL', triggerConfig: {}, version: 3 });
    // A detour through MANUAL does not free the name: back to EVENT only under the same one.
    const detour = await api.patch(`/workflows/${fresh.id}`, { triggerType: 'EVENT', triggerConfig: { eventName: 'lock.name.c' } });
    expect(detour.status).toBe(409);
    expect(detour.body.error.code).toBe('TRIGGER_EVENT_IMMUTABLE');
    const back = await api.patch(`/workflows/${fresh.id}`, { triggerType: 'EVENT', triggerConfig: { eventName: 'lock.name.b' } });
    expect(back.status).toBe(200);
    expect(back.body).toMatchObject({ triggerType: 'EVENT', triggerConfig: { eventName: 'lock.name.b' }, version: 4 });

    // The duplicate starts without executions, so its name can change.
    const copy = await api.post(`/workflows/${fresh.id}/duplicate`);
    const copyEvent = await api.patch(`/workflows/${copy.body.id}`, { triggerType: 'EVENT', triggerConfig: { eventName: 'lock.name.c' } });
    expect(copyEvent.status).toBe(200);
  });
});
