/**
 * SEND_EMAIL. Once per step: the email's Message-ID is derived from the execution and the step, the
 * send is recorded right after the SMTP server accepts it, and a retry that finds the record does not
 * send again. The one window for a duplicate is a crash between the server's acceptance and that
 * record; the duplicate then carries the same Message-ID.
 */
import { ApplicationFailure } from '@temporalio/activity';
import { and, eq } from 'drizzle-orm';
import type { JsonObject, StepActivityBase, StepActivityResult } from '../core/execution';
import { contacts, emails, templates } from '../db/schema';
import type { ActivityDeps } from './deps';
import { SmtpError } from './mailer';
import { buildVariables, renderHtml, renderLine, renderText, TemplateError } from './render';
import { closeStep, isRetry, openStep } from './step';

export interface SendEmailRequest extends StepActivityBase {
  templateId: string;
  from?: string;
  context: JsonObject;
}

type EmailStatus = 'SENT' | 'SUPPRESSED' | 'FAILED' | 'CAPTURED';

/** The stable Message-ID of the email a step of an execution sends. */
export function messageIdFor(executionId: string, stepId: string, publicUrl: string): string {
  return `<${executionId}.${stepId}@${new URL(publicUrl).hostname || 'trellis'}>`;
}

function formatFrom(address: string, name: string | null): string {
  return name ? `"${name.replace(/["\\\r\n]/g, '')}" <${address}>` : address;
}

export function sendEmailActivities(deps: ActivityDeps) {
  const { database, mailer } = deps;
  return {
    async sendEmail(req: SendEmailRequest): Promise<StepActivityResult> {
      const messageId = messageIdFor(req.executionId, req.visit.stepId, deps.publicUrl);
      const prepared = await database.db.transaction(async (tx) => {
        const owner = await openStep(tx, req);
        if (!owner.open) return owner.result;
        const [template] = await tx
          .select()
          .from(templates)
          .where(and(eq(templates.id, req.templateId), eq(templates.projectId, owner.projectId)));
        if (!template) throw ApplicationFailure.nonRetryable('template not found', 'TemplateNotFound');
        const [contact] = await tx.select().from(contacts).where(eq(contacts.id, owner.contactId));
        if (!contact) return { done: false as const, reason: 'inactive' as const };
        // Only a retry can find its email already recorded.
        const [recorded] = isRetry() ? await tx.select().from(emails).where(eq(emails.messageId, messageId)) : [];
        return { owner, template, contact, recorded };
      });
      if ('done' in prepared) return prepared;
      const { owner, template, contact, recorded } = prepared;

      let status: EmailStatus;
      let error: string | null = null;
      let subject: string;
      if (recorded) {
        // Sent (or refused) by an earlier attempt: never send again.
        status = recorded.status as EmailStatus;
        subject = recorded.subject;
      } else {
        const vars = buildVariables({ contact, context: req.context });
        try {
          subject = renderLine(template.subject, vars);
        } catch (err) {
          throw templateFailure(err);
        }
        if (template.type !== 'TRANSACTIONAL' && !contact.subscribed) {
          status = 'SUPPRESSED';
        } else {
          let html: string;
          let text: string | undefined;
          try {
            html = renderHtml(template.body, vars);
            text = template.text ? renderText(template.text, vars) : undefined;
          } catch (err) {
            throw templateFailure(err);
          }
          const from = req.from ?? template.from;
          const message = {
            from: from ? formatFrom(from, template.fromName) : deps.mailFrom,
            to: contact.email,
            replyTo: template.replyTo ?? undefined,
            subject,
            html,
            text,
            messageId,
          };
          if (!mailer) {
            status = 'CAPTURED';
            console.info(`email captured (no SMTP_URL): ${message.to} "${subject}" ${messageId}`);
          } else {
            try {
              await mailer.send(message);
              status = 'SENT';
            } catch (err) {
              if (!(err instanceof SmtpError) || !err.permanent) throw err;
              status = 'FAILED';
              error = err.message;
            }
          }
        }
      }

      return database.db.transaction(async (tx) => {
        const [row] = await tx
          .insert(emails)
          .values({
            projectId: owner.projectId,
            contactId: owner.contactId,
            templateId: template.id,
            executionId: req.executionId,
            stepId: req.visit.stepId,
            to: contact.email,
            subject,
            messageId,
            status,
            error,
          })
          .onConflictDoNothing({ target: emails.messageId })
          .returning({ id: emails.id });
        const emailId = row?.id ?? recorded?.id ?? null;
        const output = { emailId, status, messageId, ...(error ? { error } : {}) };
        await closeStep(tx, req, output);
        return { done: true as const, output };
      });
    },
  };
}

function templateFailure(err: unknown): ApplicationFailure {
  const message = err instanceof Error ? err.message : String(err);
  return err instanceof TemplateError
    ? ApplicationFailure.nonRetryable(message, 'TemplateError')
    : ApplicationFailure.retryable(message, 'RenderError');
}
