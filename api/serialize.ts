/** Rows → the resource shapes of SPEC §5 (only the documented fields, timestamps as ISO text). */
import type { contacts, emails, enrolments, events, executions, stepExecutions, steps, templates, transitions, workflows } from '../db/schema';

type Row<T extends { $inferSelect: unknown }> = T['$inferSelect'];
const iso = (d: Date | null | undefined) => (d ? d.toISOString() : null);

export const contactOut = (c: Row<typeof contacts>) => ({
  id: c.id,
  email: c.email,
  subscribed: c.subscribed,
  data: c.data,
  createdAt: iso(c.createdAt),
  updatedAt: iso(c.updatedAt),
});

export const templateOut = (t: Row<typeof templates>) => ({
  id: t.id,
  name: t.name,
  subject: t.subject,
  body: t.body,
  text: t.text,
  from: t.from,
  fromName: t.fromName,
  replyTo: t.replyTo,
  type: t.type,
  createdAt: iso(t.createdAt),
  updatedAt: iso(t.updatedAt),
});

export const workflowOut = (w: Row<typeof workflows>) => ({
  id: w.id,
  name: w.name,
  description: w.description,
  triggerType: w.triggerType,
  triggerConfig: w.triggerConfig,
  enabled: w.enabled,
  allowReentry: w.allowReentry,
  version: w.version,
  createdAt: iso(w.createdAt),
  updatedAt: iso(w.updatedAt),
});

export const stepOut = (s: Row<typeof steps>) => ({
  id: s.id,
  workflowId: s.workflowId,
  type: s.type,
  name: s.name,
  config: s.config,
  position: s.position ?? null,
});

export const transitionOut = (t: Row<typeof transitions>) => ({
  id: t.id,
  workflowId: t.workflowId,
  fromStepId: t.fromStepId,
  toStepId: t.toStepId,
  branch: t.branch,
});

export const executionOut = (e: Row<typeof executions>) => ({
  id: e.id,
  workflowId: e.workflowId,
  contactId: e.contactId,
  status: e.status,
  currentStepId: e.currentStepId,
  context: e.context,
  exitReason: e.exitReason,
  error: e.error,
  workflowVersion: e.workflowVersion,
  startedAt: iso(e.startedAt),
  completedAt: iso(e.completedAt),
});

export const stepExecutionOut = (s: Row<typeof stepExecutions>) => ({
  stepId: s.stepId,
  type: s.type,
  name: s.name,
  status: s.status,
  output: s.output ?? null,
  error: s.error,
  startedAt: iso(s.startedAt),
  completedAt: iso(s.completedAt),
});

export const eventOut = (e: Row<typeof events>) => ({
  id: e.id,
  name: e.name,
  contactId: e.contactId,
  data: e.data,
  createdAt: iso(e.createdAt),
});

export const emailOut = (m: Row<typeof emails>) => ({
  id: m.id,
  contactId: m.contactId,
  templateId: m.templateId,
  executionId: m.executionId,
  stepId: m.stepId,
  to: m.to,
  subject: m.subject,
  messageId: m.messageId,
  status: m.status,
  error: m.error,
  sentAt: iso(m.sentAt),
  openedAt: iso(m.openedAt),
  clickedAt: iso(m.clickedAt),
});

export const enrolmentOut = (e: Row<typeof enrolments>) => ({
  id: e.id,
  workflowId: e.workflowId,
  source: e.source,
  status: e.status,
  stopReason: e.stopReason,
  enrolled: e.enrolled,
  skipped: e.skipped,
  scheduledAt: iso(e.scheduledAt),
  startedAt: iso(e.startedAt),
  finishedAt: iso(e.finishedAt),
});
