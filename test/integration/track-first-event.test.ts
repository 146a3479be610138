/**
 * A new contact's first event that nothing follows from but enrolments that need no decision is
 * stored by one statement (storeFirstEvent); everything else goes through the transaction. Both ways
 * store the same rows.
 */
import { randomUUID } from 'node:crypto';
import { and, asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeFirstEvent } from '../../db/contacts';
import { contacts, events, executions, stepExecutions, steps, workflows } from '../../db/schema';
import { buildWorkflow } from '../support/builders';
import { startTestApp, waitFor, type TestApp } from '../support/harness';

describe('/v1/track: a new contact first event in one statement', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(async () => {
    await app?.close();
  });

  const db = () => app.trellis.database.db;

  /** The contact and its events as stored, without ids and times. */
  async function stored(projectId: string, email: string) {
    const [contact] = await db()
      .select()
      .from(contacts)
      .where(and(eq(contacts.projectId, projectId), eq(contacts.email, email)));
    if (!contact) return undefined;
    const rows = await db().select().from(events).where(eq(events.contactId, contact.id)).orderBy(asc(events.createdAt));
    return {
      contact: { subscribed: contact.subscribed, data: contact.data, tags: contact.tags },
      events: rows.map((e) => ({ projectId: e.projectId, name: e.name, data: e.data, depth: e.depth })),
    };
  }

  it('stores what the transaction stores: contact data without nulls and event-only items, the event with them', async () => {
    const project = await app.newProject('first-event');
    const body = (email: string) => ({
      event: 'signed.up',
      email,
      subscribed: false,
      data: { plan: 'pro', gone: null, campaign: { value: 'spring', persistent: false }, nested: { a: [1, 2] } },
    });
    const quick = `Quick-${randomUUID()}@Example.com`;
    const slow = `slow-${randomUUID()}@example.com`;
    // An Idempotency-Key sends a request through the transaction.
    const viaStatement = await project.api.request('POST', '/v1/track', body(quick), { key: project.publicKey });
    const viaTransaction = await project.api.request('POST', '/v1/track', body(slow), { key: project.publicKey, headers: { 'idempotency-key': randomUUID() } });
    expect(viaStatement.status).toBe(200);
    expect(viaTransaction.status).toBe(200);
    expect(Object.keys(viaStatement.body.data).sort()).toEqual(['contact', 'event', 'timestamp']);

    const one = await stored(project.id, quick.toLowerCase());
    const other = await stored(project.id, slow);
    expect(one).toEqual({
      contact: { subscribed: false, data: { plan: 'pro', nested: { a: [1, 2] } }, tags: [] },
      events: [{ projectId: project.id, name: 'signed.up', data: { plan: 'pro', gone: null, campaign: 'spring', nested: { a: [1, 2] } }, depth: 0 }],
    });
    expect(other).toEqual(one);
    const [event] = await db().select().from(events).where(eq(events.id, viaStatement.body.data.event));
    expect(event!.contactId).toBe(viaStatement.body.data.contact);
    expect(event!.createdAt.toISOString()).toBe(viaStatement.body.data.timestamp);
  });

  it('stores nothing and says why when the contact exists or the project has segments or workflows to enrol in', async () => {
    const project = await app.newProject('first-event-misses');
    const input = (email: string, name = 'seen') => ({ projectId: project.id, email, contactData: { a: 1 }, name, eventData: { a: 1 } });

    const email = `known-${randomUUID()}@example.com`;
    const first = await storeFirstEvent(db(), input(email));
    expect(first.stored).toBe(true);
    expect(await storeFirstEvent(db(), input(email))).toEqual({ stored: false, reason: 'contact-exists' });
    expect((await stored(project.id, email))!.events).toHaveLength(1);

    // An enabled EVENT workflow on the name: enrolment needs the transaction. Disabled, or on another name, it does not.
    const wf = await buildWorkflow(project.api, { eventName: 'enrols', steps: [], edges: [] });
    const enrolling = `enrolling-${randomUUID()}@example.com`;
    expect(await storeFirstEvent(db(), input(enrolling, 'enrols'))).toEqual({ stored: false, reason: 'consequences' });
    expect(await stored(project.id, enrolling)).toBeUndefined();
    expect((await storeFirstEvent(db(), input(`other-${randomUUID()}@example.com`, 'other'))).stored).toBe(true);
    expect((await project.api.patch(`/workflows/${wf.id}`, { enabled: false })).status).toBe(200);
    expect((await storeFirstEvent(db(), input(enrolling, 'enrols'))).stored).toBe(true);

    // A segment: the new contact's membership needs the transaction.
    const segment = await project.api.post('/segments', { name: 'Pro', filter: { field: 'data.plan', operator: 'equals', value: 'pro' } });
    expect(segment.status).toBe(201);
    const segmented = `segmented-${randomUUID()}@example.com`;
    expect(await storeFirstEvent(db(), input(segmented))).toEqual({ stored: false, reason: 'consequences' });
    expect(await stored(project.id, segmented)).toBeUndefined();
  });

  it('enrols in one statement once each triggered workflow has its snapshot and no goal filter, storing what the transaction stores', async () => {
    const project = await app.newProject('first-event-enrols');
    const wf = await buildWorkflow(project.api, {
      eventName: 'plain',
      steps: [{ key: 'wait', type: 'DELAY', config: { amount: 1, unit: 'days' } }],
      edges: [['trigger', 'wait']],
    });
    const input = (email: string, name = 'plain') => ({ projectId: project.id, email, contactData: {}, name, eventData: { plan: 'pro' } });
    // Never enrolled: no snapshot of its version yet, so the first enrolment takes the transaction (which takes it).
    const first = `first-${randomUUID()}@example.com`;
    expect(await storeFirstEvent(db(), input(first))).toEqual({ stored: false, reason: 'consequences' });
    const viaTransaction = await project.api.request('POST', '/v1/track', { event: 'plain', email: first, data: { plan: 'pro' } }, { key: project.publicKey });
    expect(viaTransaction.status).toBe(200);

    const second = `second-${randomUUID()}@example.com`;
    const viaStatement = await storeFirstEvent(db(), input(second));
    expect(viaStatement).toMatchObject({ stored: true, enrolled: 1 });
    /** The contact's execution and its step records as stored, without ids and times; the TRIGGER's output names the event. */
    const enrolment = async (contactId: string, eventId: string) => {
      const [run] = await db().select().from(executions).where(eq(executions.contactId, contactId));
      const records = await db().select().from(stepExecutions).where(eq(stepExecutions.executionId, run!.id)).orderBy(asc(stepExecutions.seq));
      const trigger = records[0]!;
      expect(trigger.output).toEqual({ type: 'EVENT', event: 'plain', eventId });
      expect(trigger.startedAt).toEqual(run!.startedAt);
      return {
        run: { workflowId: run!.workflowId, workflowVersion: run!.workflowVersion, context: run!.context, depth: run!.depth },
        trigger: { seq: trigger.seq, stepId: trigger.stepId, type: trigger.type, name: trigger.name, status: trigger.status },
      };
    };
    const stored = viaStatement as { contactId: string; eventId: string };
    const quick = await enrolment(stored.contactId, stored.eventId);
    // The workflow's current version and its TRIGGER step's name, as stored.
    const [current] = await db().select({ version: workflows.version }).from(workflows).where(eq(workflows.id, wf.id));
    const [triggerStep] = await db().select({ name: steps.name }).from(steps).where(eq(steps.id, wf.triggerId));
    expect(quick).toEqual({
      run: { workflowId: wf.id, workflowVersion: current!.version, context: { plan: 'pro' }, depth: 0 },
      trigger: { seq: 0, stepId: wf.triggerId, type: 'TRIGGER', name: triggerStep!.name, status: 'COMPLETED' },
    });
    expect(await enrolment(viaTransaction.body.data.contact, viaTransaction.body.data.event)).toEqual(quick);
    // Its start was queued: the dispatcher carries it out and the run waits in its DELAY. Through the
    // route too, which asks the dispatcher for a pass at once.
    const third = await project.api.request('POST', '/v1/track', { event: 'plain', email: `third-${randomUUID()}@example.com` }, { key: project.publicKey });
    expect(third.status).toBe(200);
    for (const contactId of [stored.contactId, third.body.data.contact]) {
      await waitFor(async () => {
        const [run] = await db().select().from(executions).where(eq(executions.contactId, contactId));
        return run?.status === 'WAITING';
      }, 'a run enrolled in one statement to reach its DELAY');
    }

    // A goal filter needs a decision at enrolment: the transaction, even with a snapshot.
    expect((await project.api.patch(`/workflows/${wf.id}`, { enabled: false })).status).toBe(200);
    const exitOn = { filter: { field: 'data.plan', operator: 'equals', value: 'pro' } };
    expect((await project.api.patch(`/workflows/${wf.id}`, { exitOn, enabled: true })).status).toBe(200);
    const goal = `goal-${randomUUID()}@example.com`;
    expect(
      (
        await project.api.request(
          'POST',
          '/v1/track',
          { event: 'plain', email: goal },
          { key: project.publicKey, headers: { 'idempotency-key': randomUUID() } },
        )
      ).status,
    ).toBe(200);
    expect(await storeFirstEvent(db(), input(`goal-${randomUUID()}@example.com`))).toEqual({ stored: false, reason: 'consequences' });
  });

  it("opens a workflow's first WAIT_FOR_EVENT as the transaction opens it: WAITING in it, its visit recorded from the insert's millisecond", async () => {
    const project = await app.newProject('first-event-opens-wait');
    const wf = await buildWorkflow(project.api, {
      eventName: 'asked',
      steps: [
        { key: 'answer', type: 'WAIT_FOR_EVENT', config: { eventName: 'answered', timeout: 3600 } },
        { key: 'thank', type: 'UPDATE_CONTACT', config: { data: { thanked: true } } },
      ],
      edges: [
        ['trigger', 'answer'],
        ['answer', 'thank', 'event'],
      ],
    });
    const input = (email: string) => ({ projectId: project.id, email, contactData: {}, name: 'asked', eventData: {} });
    // The first enrolment takes the transaction (it takes the version's snapshot); the next, the statement.
    const viaTransaction = await project.api.request(
      'POST',
      '/v1/track',
      { event: 'asked', email: `t-${randomUUID()}@example.com` },
      { key: project.publicKey },
    );
    expect(viaTransaction.status).toBe(200);
    const viaStatement = (await storeFirstEvent(db(), input(`s-${randomUUID()}@example.com`))) as { stored: true; contactId: string; eventId: string };
    expect(viaStatement).toMatchObject({ stored: true, enrolled: 1 });

    /** The contact's execution and its records as stored, without ids; the wait's start against its event's record time. */
    const opened = async (contactId: string) => {
      const [run] = await db().select().from(executions).where(eq(executions.contactId, contactId));
      const records = await db().select().from(stepExecutions).where(eq(stepExecutions.executionId, run!.id)).orderBy(asc(stepExecutions.seq));
      const [event] = await db().select().from(events).where(eq(events.contactId, contactId));
      const wait = records[1]!;
      // From the millisecond it was inserted in (as signals carry events' times), not before its event's.
      const aligned = await app.trellis.database.pool.query(
        `select started_at = date_trunc('milliseconds', started_at) as aligned from step_executions where execution_id = $1 and seq = 1`,
        [run!.id],
      );
      expect(aligned.rows).toEqual([{ aligned: true }]);
      expect(wait.startedAt.getTime()).toBeGreaterThanOrEqual(event!.createdAt.getTime());
      return {
        run: { status: run!.status, currentStepId: run!.currentStepId, waitingFor: run!.waitingFor },
        records: records.map((r) => ({ seq: r.seq, stepId: r.stepId, type: r.type, name: r.name, status: r.status })),
        wait: { output: wait.output, completedAt: wait.completedAt },
      };
    };
    const quick = await opened(viaStatement.contactId);
    expect(quick).toEqual({
      run: { status: 'WAITING', currentStepId: wf.steps.answer, waitingFor: 'answered' },
      records: [
        { seq: 0, stepId: wf.triggerId, type: 'TRIGGER', name: expect.any(String), status: 'COMPLETED' },
        { seq: 1, stepId: wf.steps.answer, type: 'WAIT_FOR_EVENT', name: 'answer', status: 'WAITING' },
      ],
      wait: { output: null, completedAt: null },
    });
    expect(await opened(viaTransaction.body.data.contact)).toEqual(quick);
  });

  it('goes the long way when the event has consequences: the contact is enrolled and joins its segment', async () => {
    const project = await app.newProject('first-event-consequences');
    const wf = await buildWorkflow(project.api, { eventName: 'joined', steps: [], edges: [] });
    const email = `joined-${randomUUID()}@example.com`;
    const answer = await project.api.request('POST', '/v1/track', { event: 'joined', email, data: { plan: 'pro' } }, { key: project.publicKey });
    expect(answer.status).toBe(200);
    const runs = await db().select().from(executions).where(eq(executions.contactId, answer.body.data.contact));
    expect(runs.map((r) => r.workflowId)).toEqual([wf.id]);

    const segment = await project.api.post('/segments', { name: 'Pro', filter: { field: 'data.plan', operator: 'equals', value: 'pro' } });
    await waitFor(async () => (await project.api.get(`/segments/${segment.body.id}`)).body.computing === false, 'the segment computed');
    const member = `member-${randomUUID()}@example.com`;
    // 'quiet' enrols nobody, but the project now has a segment.
    const joined = await project.api.request('POST', '/v1/track', { event: 'quiet', email: member, data: { plan: 'pro' } }, { key: project.publicKey });
    expect(joined.status).toBe(200);
    // The computation took in the contact of the first event; the track took in the new one.
    const members = await project.api.get(`/segments/${segment.body.id}/contacts`);
    expect(members.body.data.map((c: { email: string }) => c.email).sort()).toEqual([email, member].sort());
  });

  it('creates a contact again whose process saw it exist before it was erased (the lock tried first finds nothing)', async () => {
    const project = await app.newProject('first-event-erased');
    const email = `erased-${randomUUID()}@example.com`;
    const first = await project.api.request('POST', '/v1/track', { event: 'seen', email, data: { round: 1 } }, { key: project.publicKey });
    expect(first.status).toBe(200);
    // A second event: this process now knows the contact exists.
    expect((await project.api.request('POST', '/v1/track', { event: 'seen', email, data: { round: 2 } }, { key: project.publicKey })).status).toBe(200);
    expect((await project.api.request('DELETE', `/contacts/${first.body.data.contact}`)).status).toBe(204);

    const again = await project.api.request('POST', '/v1/track', { event: 'seen', email, data: { round: 3 } }, { key: project.publicKey });
    expect(again.status).toBe(200);
    expect(again.body.data.contact).not.toBe(first.body.data.contact);
    expect(await stored(project.id, email)).toEqual({
      contact: { subscribed: true, data: { round: 3 }, tags: [] },
      events: [{ projectId: project.id, name: 'seen', data: { round: 3 }, depth: 0 }],
    });
  });

  it('20 concurrent first events of one new email make one contact and 20 events', async () => {
    const project = await app.newProject('first-event-burst');
    const email = `burst-${randomUUID()}@example.com`;
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => project.api.request('POST', '/v1/track', { event: 'burst', email, data: { i } }, { key: project.publicKey })),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200));
    expect(new Set(answers.map((a) => a.body.data.contact)).size).toBe(1);
    const result = await stored(project.id, email);
    expect(result!.events.map((e) => (e.data as { i: number }).i).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    // The first event's data is the contact's; the later ones merge theirs in order (each the long way).
    expect(Object.keys(result!.contact.data)).toEqual(['i']);
  });
});
