/**
 * SEND_EMAIL. Once per step: the email's Message-ID is derived from the execution and the step, the
 * send is recorded right after the SMTP server accepts it, and a retry that finds the record does not
 * send again. The one window for a duplicate is a crash between the server's acceptance and that
 * record; the duplicate then carries the same Message-ID.
 *
 * The email's row id is derived from the execution and the step too, so the tracking links put in
 * the message (SPEC §8) name the row before it exists. A SENT email records `email.sent` in the
 * same transaction as its row.
 *
 * A cancel wins over the send: the status is re-checked under the execution's row lock right before
 * the SMTP call, a cancel arriving during the call aborts it, and the results are recorded only
 * while the execution is still active.
 */
import { createHash } from 'node:crypto';
import { ApplicationFailure, log } from '@temporalio/activity';
import { eq } from 'drizzle-orm';
import { parseSender } from '../core/email-address';
import type { JsonObject, StepActivityBase, StepActivityResult } from '../core/execution';
import { isActive } from '../core/statuses';
import { detachedFromAbort, onCommit, prefixedRow, prepared, retryingDeadlocks, rowColumns, runPrepared } from '../db/client';
import type { ContactRow } from '../db/contacts';
import { recordEvent } from '../db/events';
import { contacts, emails, templates } from '../db/schema';
import { addTracking } from '../core/compose-email';
import type { ActivityDeps } from './deps';
import { type EmailLinks, emailLinks } from '../email-links/tokens';
import { type OutgoingEmail, SmtpError } from './mailer';
import { buildVariables, TemplateError } from '../core/render';
import type { RenderedEmail } from './renderer';
import { emailsTotal } from '../telemetry/metrics';
import { quietHold } from './quiet-hours';
import { assertCallFits, assertNotShuttingDown, closeStep, isRetry, openStep, outsideCallSignal } from './step';
import { ACTIVE, CLAIMED_COLUMNS, claimReading } from '../db/journal';
import { commandsQueued } from '../db/outbox';

export interface SendEmailRequest extends StepActivityBase {
  templateId: string;
  from?: string;
  context: JsonObject;
  /** Workflow time (ms) of this attempt to send: what quiet hours are judged by (absent: never held). */
  now?: number;
}

type EmailStatus = 'SENT' | 'SUPPRESSED' | 'FAILED' | 'CAPTURED';

/** The stable Message-ID of the email a step of an execution sends. */
export function messageIdFor(executionId: string, stepId: string, publicUrl: string): string {
  return `<${executionId}.${stepId}@${new URL(publicUrl).hostname || 'trellis'}>`;
}

/** The stable row id of that email: a UUID (version 8, RFC 9562) from a hash of the execution and step. */
export function emailIdFor(executionId: string, stepId: string): string {
  const b = createHash('sha256').update(`trellis.email:${executionId}:${stepId}`).digest().subarray(0, 16);
  b[6] = (b[6]! & 0x0f) | 0x80;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const hex = b.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The From header: the step's sender, else the template's; the step's display name wins. */
function fromHeader(stepFrom: string | undefined, template: { from: string | null; fromName: string | null }): string | undefined {
  const step = stepFrom === undefined ? undefined : parseSender(stepFrom);
  const address = step?.address ?? template.from;
  if (!address) return undefined;
  // Names stored before line breaks were refused keep only their first line.
  const firstLine = (step?.name ?? template.fromName)?.split(/[\r\n]/, 1)[0];
  const name = firstLine?.replace(/["\\]/g, '');
  return name ? `"${name}" <${address}>` : address;
}

type TemplateRow = typeof templates.$inferSelect;
/** A claim that also reads the project's template (its first parameter) and the contact, either missing. */
const claimWithTemplateAndContact = claimReading(
  'send-email.claim-with-template-and-contact',
  (first) => `select ${CLAIMED_COLUMNS}, ${rowColumns(templates, 't', 't.')}, ${rowColumns(contacts, 'c', 'c.')}
     from claimed
     left join templates t on t.id = $${first} and t.project_id = claimed.project_id
     left join contacts c on c.id = claimed.contact_id`,
);

/**
 * Locks the execution ($1) and then its contact (as recording an event locks it: pass it
 * `contactLocked`) and records the email (id $2; project, contact, template, step $3–$6; to,
 * subject, Message-ID, status, error $7–$11) while the execution is active, or whatever its status
 * when the message went out: one round trip. Any conflict (id or Message-ID) means an earlier attempt
 * recorded this very email. No row when the execution was erased.
 */
const lockAndRecordEmail = prepared(
  'send-email.lock-and-record',
  `with target as (
     select e.status from executions e join contacts c on c.id = e.contact_id
      where e.id = $1
        for update of e for no key update of c),
   recorded as (
     insert into emails (id, project_id, contact_id, template_id, execution_id, step_id, "to", subject, message_id, status, error)
     select $2::uuid, $3::uuid, $4::uuid, $5::uuid, $1::uuid, $6::uuid, $7::text, $8::text, $9::text, $10::text, $11::text
       from target where target.status in (${ACTIVE}) or $10::text = 'SENT'
     on conflict do nothing
     returning id)
   select target.status, exists (select 1 from recorded) as recorded from target`,
);

export function sendEmailActivities(deps: ActivityDeps) {
  const { database, mailer } = deps;
  return {
    async sendEmail(req: SendEmailRequest): Promise<StepActivityResult> {
      assertNotShuttingDown(deps.shuttingDown);
      const messageId = messageIdFor(req.executionId, req.visit.stepId, deps.publicUrl);
      const emailId = emailIdFor(req.executionId, req.visit.stepId);
      const links = await emailLinks(database, deps.publicUrl);
      // The claim's transaction stays open while the message is composed: its row lock is the
      // re-check before the SMTP call (a cancel committing meanwhile waits for the commit, and a
      // cancel committed before the claim leaves nothing to claim). One round trip fewer than a
      // second look right before the call, with the same window after it.
      const prepared = await database.db.transaction(async (tx) => {
        const owner = await openStep(tx, req, { contact: 'read', read: { statements: claimWithTemplateAndContact, values: [req.templateId] } });
        if (!owner.open) return owner.result;
        const template = prefixedRow<TemplateRow>(owner.read, 't.');
        if (template.id === null) throw ApplicationFailure.nonRetryable('template not found', 'TemplateNotFound');
        const contact = owner.contact!;
        // Only a retry can find its email already recorded.
        const [recorded] = isRetry(req) ? await tx.select().from(emails).where(eq(emails.id, emailId)) : [];
        // Sent (or refused) by an earlier attempt: never send again.
        if (recorded) return { owner, template, contact, status: recorded.status as EmailStatus, subject: recorded.subject };
        // Transactional emails are never held, nor those that will be suppressed anyway.
        if (req.now !== undefined && template.type !== 'TRANSACTIONAL' && contact.subscribed) {
          const hold = await quietHold(tx, req.executionId, contact.data, req.now);
          if (hold) return hold;
        }
        const composed = await composeEmail(deps, req, { links, emailId, messageId }, template, contact);
        if (composed.message && mailer) assertCallFits(mailer.timeoutMs);
        return { owner, template, contact, ...composed };
      });
      if ('done' in prepared) return prepared;
      const { owner, template, contact, subject } = prepared;

      let status: EmailStatus;
      let error: string | null = null;
      if (prepared.status) {
        status = prepared.status;
      } else if (!mailer) {
        status = 'CAPTURED';
        log.info('email captured (no SMTP_URL)', { to: contact.email, subject, messageId });
      } else {
        // A cancel aborts the SMTP session: Temporal's (an activity task heartbeats for it: see
        // cancellation.ts), and for a local first attempt also one committed in Postgres (the API's),
        // which Temporal would hand it only once its workflow task ends.
        const call = outsideCallSignal(database.db, req.executionId);
        try {
          await mailer.send(prepared.message!, { signal: call.signal });
          status = 'SENT';
        } catch (err) {
          // Nothing to record: the cancel's transaction wrote the step and the execution.
          if (call.inactive()) return { done: false, reason: 'inactive' };
          if (!(err instanceof SmtpError) || !err.permanent) throw err;
          status = 'FAILED';
          error = err.message;
        } finally {
          call.stop();
        }
      }

      let queued = false;
      // The message may have gone out: its record is not given up for a deadlock, nor tied to the
      // attempt's cancel as a local attempt's transactions are (activities/attempt.ts).
      const result = await detachedFromAbort(() =>
        retryingDeadlocks(() =>
          database.db.transaction(async (tx): Promise<StepActivityResult> => {
            // Cancelled meanwhile: the step stays CANCELLED and no `email.sent` enrols the contact
            // anywhere. A message the server accepted all the same is still logged (unless the contact
            // was erased with its executions): it did go out. The contact is locked with the execution,
            // for `email.sent`.
            const [target] = await runPrepared<{ status: string; recorded: boolean }>(tx, lockAndRecordEmail, [
              req.executionId,
              emailId,
              owner.projectId,
              owner.contactId,
              template.id,
              req.visit.stepId,
              contact.email,
              subject,
              messageId,
              status,
              error,
            ]);
            // Erased with its contact: nothing recorded.
            if (!target) return { done: false, reason: 'inactive' };
            if (target.recorded) onCommit(tx, () => emailsTotal.inc({ status }));
            if (!isActive(target.status)) return { done: false, reason: 'inactive' };
            if (target.recorded && status === 'SENT') {
              await recordEvent(tx, {
                projectId: owner.projectId,
                contactId: owner.contactId,
                name: 'email.sent',
                data: { emailId, messageId, templateId: template.id, subject },
                depth: owner.depth + 1,
                contactLocked: true,
              });
            }
            const output = { emailId, status, messageId, ...(error ? { error } : {}) };
            await closeStep(tx, req, output);
            // `email.sent` queued commands only when a workflow follows from it or a run waits for it.
            queued = commandsQueued(tx);
            return { done: true, output };
          }),
        ),
      );
      if (queued) deps.onCommandsQueued();
      return result;
    },
  };
}

/**
 * The email's subject and, unless it is suppressed (a non-transactional email to an unsubscribed
 * contact), the message to send.
 */
async function composeEmail(
  { renderer, mailFrom }: Pick<ActivityDeps, 'renderer' | 'mailFrom'>,
  req: SendEmailRequest,
  { links, emailId, messageId }: { links: EmailLinks; emailId: string; messageId: string },
  template: TemplateRow,
  contact: ContactRow,
): Promise<{ subject: string; status?: 'SUPPRESSED'; message?: OutgoingEmail }> {
  const unsubscribeUrl = links.unsubscribeUrl(contact.id);
  const subscribeUrl = links.subscribeUrl(contact.id);
  const vars = buildVariables({ contact, context: req.context, unsubscribeUrl, subscribeUrl });
  let body: RenderedEmail;
  try {
    // A suppressed email needs only its subject, for the record.
    if (template.type !== 'TRANSACTIONAL' && !contact.subscribed) {
      return { subject: (await renderer.values(vars, [template.subject])).lines[0]!, status: 'SUPPRESSED' };
    }
    body = await renderer.email(template, vars, unsubscribeUrl);
  } catch (err) {
    throw templateFailure(err);
  }
  const html = addTracking(body.html, {
    clickUrl: (url) => links.clickUrl(emailId, url),
    openUrl: links.openUrl(emailId),
    keep: [unsubscribeUrl, subscribeUrl],
  });
  const message = {
    from: fromHeader(req.from, template) ?? mailFrom,
    to: contact.email,
    replyTo: template.replyTo ?? undefined,
    subject: body.subject,
    html,
    text: body.text,
    messageId,
    headers: body.headers,
  };
  return { subject: body.subject, message };
}

function templateFailure(err: unknown): ApplicationFailure {
  const message = err instanceof Error ? err.message : String(err);
  return err instanceof TemplateError ? ApplicationFailure.nonRetryable(message, 'TemplateError') : ApplicationFailure.retryable(message, 'RenderError');
}
