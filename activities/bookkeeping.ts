/** Activities that only write the projection or read the contact for a CONDITION. */
import { eq } from 'drizzle-orm';
import type { ContactSnapshot, Journal, TrackedEventSignal } from '../core/execution';
import { firstEventSince } from '../db/events';
import { applyJournal, lockExecution } from '../db/journal';
import { acknowledgeCancel, expediteCancel } from '../db/outbox';
import { contacts, executions } from '../db/schema';
import type { ActivityDeps } from './deps';

export function bookkeepingActivities({ database, onCommandsQueued }: ActivityDeps) {
  return {
    /**
     * Writes the interpreter's queued bookkeeping; answers whether the execution is still active. A
     * cancelled run's last flush acknowledges its cancel command, freeing its place in the
     * dispatcher's cancel window (db/outbox.ts), and asks for a pass to fill it.
     */
    async flushJournal(req: { executionId: string; journal: Journal }): Promise<{ active: boolean }> {
      const final = req.journal.execution;
      const answer = await database.db.transaction(async (tx) => {
        const exec = await lockExecution(tx, req.executionId);
        // An earlier attempt of this very flush already wrote its final status, but its result never
        // reached Temporal (its worker died, or it outlived its timeout): still this workflow's own end.
        const wroteItsEnd = final?.completed === true && exec.status === final.status;
        // Cancelled or erased behind the workflow's back: nothing is recorded after the cancel (which
        // closed the open step itself).
        if (!exec.active) return { active: wroteItsEnd };
        await applyJournal(tx, req.executionId, req.journal);
        return { active: true };
      });
      if (final?.completed === true && final.status === 'CANCELLED' && (await acknowledgeCancel(database.db, req.executionId))) onCommandsQueued();
      return answer;
    },

    /**
     * Opens a WAIT_FOR_EVENT in the projection (the journal's WAITING patch names the event) and
     * answers the first event of that name recorded on the contact after `since` (the wait's start),
     * which no signal will bring: the contact's row lock, taken by every event's recording too,
     * makes each event either committed before this read or recorded after the wait shows, and so
     * signalled.
     */
    async startWait(req: {
      executionId: string;
      journal: Journal;
      eventName: string;
      since: string;
    }): Promise<{ active: boolean; event?: TrackedEventSignal }> {
      return database.db.transaction(async (tx) => {
        const exec = await lockExecution(tx, req.executionId);
        if (exec.projectId === undefined || !exec.active) return { active: false };
        await tx.select({ id: contacts.id }).from(contacts).where(eq(contacts.id, exec.contactId!)).for('share');
        await applyJournal(tx, req.executionId, req.journal);
        const event = await firstEventSince(tx, { contactId: exec.contactId!, name: req.eventName, since: new Date(req.since) });
        return event ? { active: true, event } : { active: true };
      });
    },

    /**
     * The execution's status in the projection, with its error (none once it was erased). Asked by a
     * run that found its execution inactive: when it was cancelled, the run waits for Temporal's
     * cancellation, whose command goes to the head of its lane and holds no place in the cancel
     * window (expediteCancel).
     */
    async executionStatus(req: { executionId: string }): Promise<{ status?: string; error?: string }> {
      const [row] = await database.db.select({ status: executions.status, error: executions.error }).from(executions).where(eq(executions.id, req.executionId));
      if (row?.status === 'CANCELLED' && (await expediteCancel(database.db, req.executionId))) onCommandsQueued();
      return row ? { status: row.status, ...(row.error ? { error: row.error } : {}) } : {};
    },

    /** Writes the queued bookkeeping and returns the contact's fresh data (null once it is inactive). */
    async loadContact(req: { executionId: string; journal: Journal; currentStepId: string }): Promise<ContactSnapshot | null> {
      return database.db.transaction(async (tx) => {
        const exec = await lockExecution(tx, req.executionId);
        if (!exec.active) return null;
        await applyJournal(tx, req.executionId, req.journal);
        await tx.update(executions).set({ currentStepId: req.currentStepId }).where(eq(executions.id, req.executionId));
        const [c] = await tx.select().from(contacts).where(eq(contacts.id, exec.contactId!));
        if (!c) return null;
        return { id: c.id, email: c.email, subscribed: c.subscribed, createdAt: c.createdAt.toISOString(), data: c.data, tags: c.tags };
      });
    },
  };
}
