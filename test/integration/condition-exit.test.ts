import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWorkflow } from '../support/builders';
import { trackToEnd } from '../support/executions';
import { startTestApp, type TestApp } from '../support/harness';

describe('CONDITION branches and EXIT', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(async () => {
    await app?.close();
  });

  async function contact(email: string, data: Record<string, unknown>): Promise<string> {
    const r = await app.api.post('/contacts', { email, data });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    return r.body.id;
  }

  /** The Temporal workflow behind an execution: its own status and, once closed successfully, its result. */
  async function temporalOf(executionId: string): Promise<{ status: string; result: unknown }> {
    const handle = app.trellis.client.workflow.getHandle(`trellis-execution-${executionId}`);
    const result = await handle.result();
    const described = await handle.describe();
    return { status: described.status.name, result };
  }

  const steps = (execution: any) => execution.steps.map((s: any) => [s.type, s.stepId, s.status]);

  it('follows "yes" or "no" on the contact\'s data', async () => {
    const wf = await buildWorkflow(app.api, {
      name: 'plan check',
      eventName: 'checked_in',
      steps: [
        { key: 'isPro', type: 'CONDITION', config: { field: 'data.plan', operator: 'equals', value: 'pro' } },
        { key: 'gold', type: 'UPDATE_CONTACT', config: { data: { tier: 'gold' } } },
        { key: 'standard', type: 'UPDATE_CONTACT', config: { data: { tier: 'standard' } } },
      ],
      edges: [
        ['trigger', 'isPro'],
        ['isPro', 'gold', 'yes'],
        ['isPro', 'standard', 'no'],
      ],
    });
    const pro = await contact('pro@example.com', { plan: 'pro' });
    const free = await contact('free@example.com', { plan: 'free' });

    const [yes, no] = await Promise.all([
      trackToEnd(app.api, wf.id, 'checked_in', 'pro@example.com'),
      trackToEnd(app.api, wf.id, 'checked_in', 'free@example.com'),
    ]);

    expect(yes.status).toBe('COMPLETED');
    expect(yes.exitReason).toBeNull();
    expect(steps(yes)).toEqual([
      ['TRIGGER', wf.triggerId, 'COMPLETED'],
      ['CONDITION', wf.steps.isPro, 'COMPLETED'],
      ['UPDATE_CONTACT', wf.steps.gold, 'COMPLETED'],
    ]);
    expect(yes.steps[1].output).toEqual({ result: true });
    expect((await app.api.get(`/contacts/${pro}`)).body.data).toEqual({ plan: 'pro', tier: 'gold' });

    expect(no.status).toBe('COMPLETED');
    expect(steps(no)).toEqual([
      ['TRIGGER', wf.triggerId, 'COMPLETED'],
      ['CONDITION', wf.steps.isPro, 'COMPLETED'],
      ['UPDATE_CONTACT', wf.steps.standard, 'COMPLETED'],
    ]);
    expect(no.steps[1].output).toEqual({ result: false });
    expect((await app.api.get(`/contacts/${free}`)).body.data).toEqual({ plan: 'free', tier: 'standard' });

    expect(await temporalOf(yes.id)).toEqual({ status: 'COMPLETED', result: { status: 'COMPLETED' } });
    expect(await temporalOf(no.id)).toEqual({ status: 'COMPLETED', result: { status: 'COMPLETED' } });
  });

  it('completes when the branch taken has no transition', async () => {
    const wf = await buildWorkflow(app.api, {
      name: 'yes only',
      eventName: 'visited',
      steps: [
        { key: 'big', type: 'CONDITION', config: { field: 'event.pages', operator: 'greaterThan', value: 10 } },
        { key: 'flag', type: 'UPDATE_CONTACT', config: { data: { engaged: true } } },
      ],
      edges: [
        ['trigger', 'big'],
        ['big', 'flag', 'yes'],
      ],
    });

    const execution = await trackToEnd(app.api, wf.id, 'visited', 'skimmer@example.com', { pages: { value: 3, persistent: false } });

    expect(execution.status).toBe('COMPLETED');
    expect(steps(execution)).toEqual([
      ['TRIGGER', wf.triggerId, 'COMPLETED'],
      ['CONDITION', wf.steps.big, 'COMPLETED'],
    ]);
    expect(execution.steps[1].output).toEqual({ result: false });
    expect((await app.api.get(`/contacts/${execution.contactId}`)).body.data).toEqual({});
  });

  it("ends EXITED with the EXIT step's reason, and Temporal completes with it", async () => {
    const wf = await buildWorkflow(app.api, {
      name: 'upsell',
      eventName: 'upsell_due',
      steps: [
        { key: 'isPro', type: 'CONDITION', config: { field: 'contact.data.plan', operator: 'equals', value: 'pro' } },
        { key: 'stop', type: 'EXIT', config: { reason: 'already pro' } },
        { key: 'offer', type: 'UPDATE_CONTACT', config: { data: { offered: true } } },
      ],
      edges: [
        ['trigger', 'isPro'],
        ['isPro', 'stop', 'yes'],
        ['isPro', 'offer', 'no'],
      ],
    });
    const pro = await contact('upsell-pro@example.com', { plan: 'pro' });

    const execution = await trackToEnd(app.api, wf.id, 'upsell_due', 'upsell-pro@example.com');

    expect(execution.status).toBe('EXITED');
    expect(execution.exitReason).toBe('already pro');
    expect(execution.error).toBeNull();
    expect(execution.currentStepId).toBe(wf.steps.stop);
    expect(execution.completedAt).not.toBeNull();
    expect(steps(execution)).toEqual([
      ['TRIGGER', wf.triggerId, 'COMPLETED'],
      ['CONDITION', wf.steps.isPro, 'COMPLETED'],
      ['EXIT', wf.steps.stop, 'COMPLETED'],
    ]);
    expect((await app.api.get(`/contacts/${pro}`)).body.data).toEqual({ plan: 'pro' });
    expect(await temporalOf(execution.id)).toEqual({ status: 'COMPLETED', result: { status: 'EXITED', exitReason: 'already pro' } });

    const listed = await app.api.get(`/workflows/${wf.id}/executions?status=EXITED`);
    expect(listed.body.total).toBe(1);
    expect(listed.body.data[0].id).toBe(execution.id);
  });

  it('uses "exit_step" as the reason when the EXIT step gives none (CONDITION reading data written by an earlier step)', async () => {
    const wf = await buildWorkflow(app.api, {
      name: 'mark and leave',
      eventName: 'churned',
      steps: [
        { key: 'mark', type: 'UPDATE_CONTACT', config: { data: { churned: true } } },
        { key: 'isChurned', type: 'CONDITION', config: { field: 'data.churned', operator: 'equals', value: true } },
        { key: 'leave', type: 'EXIT', config: {} },
        { key: 'stay', type: 'UPDATE_CONTACT', config: { data: { stayed: true } } },
      ],
      edges: [
        ['trigger', 'mark'],
        ['mark', 'isChurned'],
        ['isChurned', 'leave', 'yes'],
        ['isChurned', 'stay', 'no'],
      ],
    });

    const execution = await trackToEnd(app.api, wf.id, 'churned', 'gone@example.com');

    expect(execution.status).toBe('EXITED');
    expect(execution.exitReason).toBe('exit_step');
    expect(steps(execution)).toEqual([
      ['TRIGGER', wf.triggerId, 'COMPLETED'],
      ['UPDATE_CONTACT', wf.steps.mark, 'COMPLETED'],
      ['CONDITION', wf.steps.isChurned, 'COMPLETED'],
      ['EXIT', wf.steps.leave, 'COMPLETED'],
    ]);
    expect(execution.steps[2].output).toEqual({ result: true });
    expect((await app.api.get(`/contacts/${execution.contactId}`)).body.data).toEqual({ churned: true });
    expect(await temporalOf(execution.id)).toEqual({ status: 'COMPLETED', result: { status: 'EXITED', exitReason: 'exit_step' } });
  });
});
