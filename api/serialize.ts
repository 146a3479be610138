/**
 * Rows → the resource shapes of SPEC §5 (only the documented fields, timestamps as ISO text). Each
 * returns the type its response schema (api/schemas/resources.ts) takes; the text columns that hold
 * an enumeration are narrowed to it, which the response check verifies in the tests.
 */
import type { MessageRow } from '../db/messages';
import type { z } from 'zod';
import type { contacts, emails, enrolments, events, executions, stepExecutions, steps, templates, transitions, workflows } from '../db/schema';
import { workflowStatus } from '../core/workflow-status';
import type { SegmentWithCount } from '../db/segments';
import type * as S from './schemas/resources';
import type { Step } from './schemas/steps';

type Row<T extends { $inferSelect: unknown }> = T['$inferSelect'];
type Out<T extends z.ZodType> = z.input<T>;
const iso = (d: Date) => d.toISOString();
const isoOrNull = (d: Date | null | undefined) => (d ? d.toISOString() : null);

export const contactOut = (c: Row<typeof contacts>): Out<typeof S.Contact> => ({
  id: c.id,
  email: c.email,
  subscribed: c.subscribed,
  data: c.data,
  tags: c.tags,
  createdAt: iso(c.createdAt),
  updatedAt: iso(c.updatedAt),
});

export const templateOut = (t: Row<typeof templates>): Out<typeof S.Template> => ({
  id: t.id,
  name: t.name,
  subject: t.subject,
  body: t.body,
  text: t.text,
  from: t.from,
  fromName: t.fromName,
  replyTo: t.replyTo,
  type: t.type as Out<typeof S.Template>['type'],
  createdAt: iso(t.createdAt),
  updatedAt: iso(t.updatedAt),
});

export const workflowOut = (w: Row<typeof workflows>): Out<typeof S.Workflow> => ({
  id: w.id,
  name: w.name,
  description: w.description,
  triggerType: w.triggerType as Out<typeof S.Workflow>['triggerType'],
  triggerConfig: w.triggerConfig as Out<typeof S.Workflow>['triggerConfig'],
  enabled: w.enabled,
  archived: w.archived,
  status: workflowStatus(w),
  allowReentry: w.allowReentry,
  ignoreQuietHours: w.ignoreQuietHours,
  exitOn: (w.exitOn as Out<typeof S.Workflow>['exitOn']) ?? null,
  version: w.version,
  createdAt: iso(w.createdAt),
  updatedAt: iso(w.updatedAt),
});

export const stepOut = (s: Row<typeof steps>): Out<typeof Step> =>
  ({
    id: s.id,
    workflowId: s.workflowId,
    key: s.key,
    type: s.type,
    name: s.name,
    config: s.config,
    position: s.position ?? null,
  }) as Out<typeof Step>;

export const transitionOut = (t: Row<typeof transitions>): Out<typeof S.Transition> => ({
  id: t.id,
  workflowId: t.workflowId,
  fromStepId: t.fromStepId,
  toStepId: t.toStepId,
  branch: t.branch,
});

export const executionOut = (e: Row<typeof executions>): Out<typeof S.Execution> => ({
  id: e.id,
  workflowId: e.workflowId,
  contactId: e.contactId,
  status: e.status as Out<typeof S.Execution>['status'],
  currentStepId: e.currentStepId,
  context: e.context,
  exitReason: e.exitReason,
  error: e.error,
  workflowVersion: e.workflowVersion,
  startedAt: iso(e.startedAt),
  completedAt: isoOrNull(e.completedAt),
});

export const stepExecutionOut = (s: Row<typeof stepExecutions>): Out<typeof S.StepExecution> => ({
  stepId: s.stepId,
  type: s.type as Out<typeof S.StepExecution>['type'],
  name: s.name,
  status: s.status as Out<typeof S.StepExecution>['status'],
  output: s.output ?? null,
  error: s.error,
  startedAt: iso(s.startedAt),
  completedAt: isoOrNull(s.completedAt),
});

export const eventOut = (e: Row<typeof events>): Out<typeof S.Event> => ({
  id: e.id,
  name: e.name,
  contactId: e.contactId,
  data: e.data,
  depth: e.depth,
  createdAt: iso(e.createdAt),
});

export const emailOut = (m: Row<typeof emails>): Out<typeof S.Email> => ({
  id: m.id,
  contactId: m.contactId,
  templateId: m.templateId,
  executionId: m.executionId,
  stepId: m.stepId,
  to: m.to,
  subject: m.subject,
  messageId: m.messageId,
  status: m.status as Out<typeof S.Email>['status'],
  error: m.error,
  sentAt: iso(m.sentAt),
  openedAt: isoOrNull(m.openedAt),
  clickedAt: isoOrNull(m.clickedAt),
});

export const messageOut = (m: MessageRow): Out<typeof S.Message> => ({
  id: m.id,
  contactId: m.contactId,
  executionId: m.executionId,
  stepId: m.stepId,
  to: m.to,
  body: m.body,
  providerId: m.providerId,
  status: m.status as Out<typeof S.Message>['status'],
  error: m.error,
  sentAt: iso(m.sentAt),
});

export const segmentOut = (s: SegmentWithCount): Out<typeof S.Segment> => ({
  id: s.id,
  name: s.name,
  slug: s.slug,
  filter: s.filter,
  trackMembership: s.trackMembership,
  memberCount: s.memberCount,
  computing: s.computing,
  createdAt: iso(s.createdAt),
  updatedAt: iso(s.updatedAt),
});

export const enrolmentOut = (e: Row<typeof enrolments>): Out<typeof S.Enrolment> => ({
  id: e.id,
  workflowId: e.workflowId,
  source: e.source as Out<typeof S.Enrolment>['source'],
  status: e.status as Out<typeof S.Enrolment>['status'],
  stopReason: e.stopReason,
  enrolled: e.enrolled,
  skipped: e.skipped,
  scheduledAt: isoOrNull(e.scheduledAt),
  startedAt: iso(e.startedAt),
  finishedAt: isoOrNull(e.finishedAt),
});
