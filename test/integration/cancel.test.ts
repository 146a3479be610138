/**
 * Cancelling executions (SPEC §5.5, §6, §11): one from the API, all of a workflow from the API, a
 * contact's through its deletion, and a workflow's in-flight executions from the `temporal` CLI.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import { EVENT_SIGNAL, temporalWorkflowId } from '../../core/execution';
import { cancelExecutions } from '../../db/cancel';
import { executions as executionRows } from '../../db/schema';
import { buildWorkflow, createTemplate } from '../support/builders';
import { executionIn, runStarted } from '../support/executions';
import { startTestApp, waitFor, type Api, type TestApp } from '../support/harness';
import { startSmtp, type TestSmtp } from '../support/smtp';

const run = promisify(execFile);

describe('cancelling executions', () => {
  let app: TestApp;
  let smtp: TestSmtp;

  beforeAll(async () => {
    smtp = await startSmtp();
    app = await startTestApp({ env: { SMTP_URL: smtp.url } });
  });
  afterAll(async () => {
    await app?.close();
    await smtp?.close();
  });

  /** The status Temporal itself gives the execution's workflow (what the Web UI shows). */
  async function temporalStatus(executionId: string): Promise<string> {
    const d = await app.trellis.client.workflow.getHandle(temporalWorkflowId(executionId)).describe();
    return d.status.name;
  }

  async function waitForTemporalStatus(executionId: string, status: string): Promise<void> {
    await waitFor(async () => (await temporalStatus(executionId)) === status, `Temporal status ${status} of ${executionId}`);
  }

  async function startManual(api: Api, workflowId: string, email: string): Promise<any> {
    const r = await api.post(`/workflows/${workflowId}/executions`, { email });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    return r.body;
  }

  /** A manual workflow that waits for `replied`, then marks the contact. */
  function waitThenMark(api: Api) {
    return buildWorkflow(api, {
      manual: true,
      steps: [
        { key: 'reply', type: 'WAIT_FOR_EVENT', config: { eventName: 'replied' } },
        { key: 'mark', type: 'UPDATE_CONTACT', config: { data: { replied: true } } },
      ],
      edges: [
        ['trigger', 'reply'],
        ['reply', 'mark'],
      ],
    });
  }

  it('DELETE of one execution cancels it in Postgres and in Temporal; the step after the DELAY never runs', async () => {
    const { api } = app;
    const template = await createTemplate(api, { subject: 'never sent', body: '<p>x</p>', type: 'TRANSACTIONAL' });
    const wf = await buildWorkflow(api, {
      manual: true,
      steps: [
        { key: 'wait', type: 'DELAY', config: { amount: 1, unit: 'minutes' } },
        { key: 'mail', type: 'SEND_EMAIL', config: { templateId: template } },
      ],
      edges: [
        ['trigger', 'wait'],
        ['wait', 'mail'],
      ],
    });
    const execution = await startManual(api, wf.id, 'cancel-one@example.com');
    await executionIn(api, wf.id, execution.id, ['WAITING']);
    await waitForTemporalStatus(execution.id, 'RUNNING');

    const cancelled = await api.delete(`/workflows/${wf.id}/executions/${execution.id}`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.id).toBe(execution.id);
    expect(cancelled.body.status).toBe('CANCELLED');
    expect(cancelled.body.completedAt).not.toBeNull();

    // Temporal's cancellation reaches the workflow, which closes as cancelled: nothing more can run.
    await waitForTemporalStatus(execution.id, 'CANCELLED');
    const after = await api.get(`/workflows/${wf.id}/executions/${execution.id}`);
    expect(after.body.status).toBe('CANCELLED');
    expect(after.body.steps.map((s: any) => [s.type, s.status])).toEqual([
      ['TRIGGER', 'COMPLETED'],
      ['DELAY', 'CANCELLED'],
    ]);
    expect(after.body.steps[1].stepId).toBe(wf.steps.wait);
    expect(after.body.steps[1].completedAt).not.toBeNull();
    const emails = await api.get(`/emails?executionId=${execution.id}`);
    expect(emails.body.total).toBe(0);
    expect(smtp.messages.filter((m) => m.to.includes('cancel-one@example.com'))).toHaveLength(0);

    // Already finished: 409.
    const again = await api.delete(`/workflows/${wf.id}/executions/${execution.id}`);
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('CONFLICT');
  });

  it('DELETE of an execution in the WAIT_FOR_EVENT its enrolment opened cancels its run, which acknowledges the cancel', async () => {
    const { api } = app;
    const wf = await waitThenMark(api);
    const execution = await startManual(api, wf.id, 'cancel-opened@example.com');
    // Waiting from its enrolment on.
    expect([execution.status, execution.currentStepId]).toEqual(['WAITING', wf.steps.reply]);
    await waitForTemporalStatus(execution.id, 'RUNNING');

    expect((await api.delete(`/workflows/${wf.id}/executions/${execution.id}`)).status).toBe(200);
    await waitForTemporalStatus(execution.id, 'CANCELLED');
    // The run recorded its cancellation: the command's lease is given up at once, not left to run out.
    const { pool } = app.trellis.database;
    await waitFor(async () => (await pool.query('select 1 from outbox where execution_id = $1', [execution.id])).rowCount === 0, 'the cancel acknowledged');
    const after = await api.get(`/workflows/${wf.id}/executions/${execution.id}`);
    expect(after.body.steps.map((s: any) => [s.type, s.status])).toEqual([
      ['TRIGGER', 'COMPLETED'],
      ['WAIT_FOR_EVENT', 'CANCELLED'],
    ]);
  });

  it("a run that wakes to find its execution cancelled takes Temporal's cancel with no place held for it in the cancel window", async () => {
    const { api } = app;
    const wf = await waitThenMark(api);
    const execution = await startManual(api, wf.id, 'cancel-awake@example.com');
    await waitForTemporalStatus(execution.id, 'RUNNING');
    await runStarted(app.trellis.client, execution.id);

    // Cancelled in Postgres, its command held back (not due) so that the run wakes first, as one
    // whose event came while a cancel-all's commands were still queued.
    const { database } = app.trellis;
    await database.db.transaction(async (tx) => {
      expect(await cancelExecutions(tx, eq(executionRows.id, execution.id))).toBe(1);
      await tx.execute(sql`update outbox set available_at = 'infinity' where execution_id = ${execution.id} and kind = 'cancel'`);
    });
    // Woken by an event: its next step finds the execution cancelled, and the run asks Postgres why.
    await app.trellis.client.workflow
      .getHandle(temporalWorkflowId(execution.id))
      .signal(EVENT_SIGNAL, { eventId: randomUUID(), name: 'replied', data: {}, recordedAt: new Date().toISOString() });

    // Its command goes out at once and is gone once Temporal took it; a place held for an
    // acknowledgement this run never gives would keep it for the whole hold (10 s).
    await waitForTemporalStatus(execution.id, 'CANCELLED');
    await waitFor(
      async () => (await database.pool.query('select 1 from outbox where execution_id = $1', [execution.id])).rowCount === 0,
      'the cancel gone',
      5_000,
    );
    const after = await api.get(`/workflows/${wf.id}/executions/${execution.id}`);
    expect(after.body.status).toBe('CANCELLED');
    expect(after.body.steps.map((s: any) => [s.type, s.status])).toEqual([
      ['TRIGGER', 'COMPLETED'],
      ['WAIT_FOR_EVENT', 'CANCELLED'],
    ]);
    const contact = await api.get(`/contacts/${execution.contactId}`);
    expect(contact.body.data).toEqual({});
  });

  it('DELETE of a finished execution answers 409 and leaves it as it was', async () => {
    const { api } = app;
    const wf = await buildWorkflow(api, {
      manual: true,
      steps: [{ key: 'tag', type: 'UPDATE_CONTACT', config: { data: { tagged: true } } }],
      edges: [['trigger', 'tag']],
    });
    const execution = await startManual(api, wf.id, 'finished@example.com');
    await executionIn(api, wf.id, execution.id, ['COMPLETED']);
    const r = await api.delete(`/workflows/${wf.id}/executions/${execution.id}`);
    expect(r.status).toBe(409);
    expect(r.body.error.code).toBe('CONFLICT');
    const after = await api.get(`/workflows/${wf.id}/executions/${execution.id}`);
    expect(after.body.status).toBe('COMPLETED');
    await waitForTemporalStatus(execution.id, 'COMPLETED');

    // An execution of another workflow, or an unknown one: 404.
    const other = await buildWorkflow(api, { manual: true, steps: [], edges: [] });
    expect((await api.delete(`/workflows/${other.id}/executions/${execution.id}`)).status).toBe(404);
  });

  it('cancel-all cancels every RUNNING/WAITING execution of the workflow by the time it answers', async () => {
    const { api } = app;
    const template = await createTemplate(api, { subject: 'released {{email}}', body: '<p>go</p>', type: 'TRANSACTIONAL' });
    const wf = await buildWorkflow(api, {
      eventName: 'cancel_all_enrolled',
      steps: [
        { key: 'wait', type: 'WAIT_FOR_EVENT', config: { eventName: 'cancel_all_go' } },
        { key: 'mail', type: 'SEND_EMAIL', config: { templateId: template } },
      ],
      edges: [
        ['trigger', 'wait'],
        ['wait', 'mail'],
      ],
    });
    const emails = ['ca1@example.com', 'ca2@example.com', 'ca3@example.com', 'ca-done@example.com'];
    for (const email of emails) {
      expect((await api.post('/v1/track', { event: 'cancel_all_enrolled', email })).status).toBe(200);
    }
    const executions = await waitFor(async () => {
      const list = await api.get(`/workflows/${wf.id}/executions?status=WAITING`);
      return list.body.total === 4 ? (list.body.data as any[]) : undefined;
    }, 'four WAITING executions');
    for (const e of executions) await runStarted(app.trellis.client, e.id);
    const contactOf = new Map<string, string>();
    for (const email of emails) {
      const c = await api.get(`/contacts?search=${encodeURIComponent(email)}`);
      contactOf.set(email, c.body.data[0].id);
    }
    const byEmail = (email: string) => executions.find((e) => e.contactId === contactOf.get(email))!;

    // One of them is released and completes; the other three stay WAITING.
    expect((await api.post('/v1/track', { event: 'cancel_all_go', email: 'ca-done@example.com' })).status).toBe(200);
    const done = byEmail('ca-done@example.com');
    await executionIn(api, wf.id, done.id, ['COMPLETED']);
    expect(smtp.messages.filter((m) => m.parsed.subject === 'released ca-done@example.com')).toHaveLength(1);

    const r = await api.post(`/workflows/${wf.id}/executions/cancel-all`);
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ cancelled: 3 });
    // When it answers, they are CANCELLED already.
    const list = await api.get(`/workflows/${wf.id}/executions?pageSize=100`);
    const statuses = Object.fromEntries((list.body.data as any[]).map((e) => [e.contactId, e.status]));
    expect(statuses).toEqual({
      [contactOf.get('ca1@example.com')!]: 'CANCELLED',
      [contactOf.get('ca2@example.com')!]: 'CANCELLED',
      [contactOf.get('ca3@example.com')!]: 'CANCELLED',
      [contactOf.get('ca-done@example.com')!]: 'COMPLETED',
    });

    for (const email of ['ca1@example.com', 'ca2@example.com', 'ca3@example.com']) {
      const e = byEmail(email);
      await waitForTemporalStatus(e.id, 'CANCELLED');
      // The event they waited for now reaches nobody: no further step runs.
      expect((await api.post('/v1/track', { event: 'cancel_all_go', email })).status).toBe(200);
      const detail = await api.get(`/workflows/${wf.id}/executions/${e.id}`);
      expect(detail.body.status).toBe('CANCELLED');
      expect(detail.body.steps.map((s: any) => [s.type, s.status])).toEqual([
        ['TRIGGER', 'COMPLETED'],
        ['WAIT_FOR_EVENT', 'CANCELLED'],
      ]);
    }
    expect(await temporalStatus(done.id)).toBe('COMPLETED');
    const sent = await api.get(`/emails?pageSize=100`);
    expect((sent.body.data as any[]).filter((m) => m.subject.startsWith('released ')).map((m) => m.to)).toEqual(['ca-done@example.com']);

    // Nothing left to cancel.
    const second = await api.post(`/workflows/${wf.id}/executions/cancel-all`);
    expect(second.status).toBe(200);
    expect(second.body).toEqual({ cancelled: 0 });
  });

  it("DELETE /contacts/:id cancels the contact's active executions in Temporal and erases it", async () => {
    const { api } = app;
    const delayWf = await buildWorkflow(api, {
      manual: true,
      steps: [{ key: 'wait', type: 'DELAY', config: { amount: 1, unit: 'hours' } }],
      edges: [['trigger', 'wait']],
    });
    const waitWf = await buildWorkflow(api, {
      manual: true,
      steps: [{ key: 'wait', type: 'WAIT_FOR_EVENT', config: { eventName: 'never_tracked' } }],
      edges: [['trigger', 'wait']],
    });
    const a = await startManual(api, delayWf.id, 'erase-me@example.com');
    const b = await startManual(api, waitWf.id, 'erase-me@example.com');
    expect(b.contactId).toBe(a.contactId);
    // Another contact's execution of the same workflow is untouched.
    const bystander = await startManual(api, delayWf.id, 'bystander@example.com');
    await executionIn(api, delayWf.id, a.id, ['WAITING']);
    await executionIn(api, waitWf.id, b.id, ['WAITING']);
    await executionIn(api, delayWf.id, bystander.id, ['WAITING']);

    const r = await api.delete(`/contacts/${a.contactId}`);
    expect(r.status).toBe(204);
    expect((await api.get(`/contacts/${a.contactId}`)).status).toBe(404);
    expect((await api.get(`/contacts/${a.contactId}/executions`)).status).toBe(404);
    expect((await api.get(`/workflows/${delayWf.id}/executions/${a.id}`)).status).toBe(404);
    expect((await api.get(`/workflows/${waitWf.id}/executions/${b.id}`)).status).toBe(404);

    await waitForTemporalStatus(a.id, 'CANCELLED');
    await waitForTemporalStatus(b.id, 'CANCELLED');
    expect(await temporalStatus(bystander.id)).toBe('RUNNING');
    const list = await api.get(`/workflows/${delayWf.id}/executions`);
    expect(list.body.total).toBe(1);
    expect(list.body.data[0]).toMatchObject({ id: bystander.id, status: 'WAITING' });
  });

  it("the README's CLI command cancels a workflow's in-flight executions and the API shows them CANCELLED within 5 s", async () => {
    const { api } = app;
    const client = app.trellis.client;
    const wf = await buildWorkflow(api, {
      manual: true,
      steps: [{ key: 'wait', type: 'WAIT_FOR_EVENT', config: { eventName: 'cli_never' } }],
      edges: [['trigger', 'wait']],
    });
    const control = await buildWorkflow(api, {
      manual: true,
      steps: [{ key: 'wait', type: 'WAIT_FOR_EVENT', config: { eventName: 'cli_never' } }],
      edges: [['trigger', 'wait']],
    });
    const started = [];
    for (const email of ['cli1@example.com', 'cli2@example.com', 'cli3@example.com']) started.push(await startManual(api, wf.id, email));
    const untouched = await startManual(api, control.id, 'cli1@example.com');
    for (const e of started) await executionIn(api, wf.id, e.id, ['WAITING']);
    await executionIn(api, control.id, untouched.id, ['WAITING']);

    const query = `ExecutionStatus='Running' AND TrellisWorkflowId='${wf.id}'`;
    // Visibility is eventually consistent: the batch sees what the list sees.
    await waitFor(async () => (await client.workflow.count(query)).count === 3, 'the executions in visibility');

    const cli = inject('temporalCli');
    const out = await run(cli, ['workflow', 'cancel', '--query', query, '--yes', '--reason', 'test', '--address', inject('temporalAddress')], {
      timeout: 30_000,
    });
    expect(out.stdout + out.stderr).toMatch(/batch/i);

    for (const e of started) {
      await waitFor(
        async () => {
          const r = await api.get(`/workflows/${wf.id}/executions/${e.id}`);
          return r.body.status === 'CANCELLED' ? r.body : undefined;
        },
        `execution ${e.id} CANCELLED after the CLI cancel`,
        5000,
      );
    }
    for (const e of started) {
      const r = await api.get(`/workflows/${wf.id}/executions/${e.id}`);
      expect(r.body.completedAt).not.toBeNull();
      expect(r.body.steps.map((s: any) => [s.type, s.status])).toEqual([
        ['TRIGGER', 'COMPLETED'],
        ['WAIT_FOR_EVENT', 'CANCELLED'],
      ]);
      // The run records CANCELLED in Postgres (an activity) and then closes: Temporal follows within moments.
      await waitForTemporalStatus(e.id, 'CANCELLED');
    }
    const other = await api.get(`/workflows/${control.id}/executions/${untouched.id}`);
    expect(other.body.status).toBe('WAITING');
    expect(await temporalStatus(untouched.id)).toBe('RUNNING');
  });
});
