/** The resources the API answers with (SPEC §5), as their JSON looks on the wire. */
import { z } from 'zod';
import { filterSchema } from '../../core/filter-schema';
import { eventFieldPaths } from '../../core/segment';
import { STEP_TYPES } from '../../core/graph';
import { EXECUTION_STATUSES, STEP_STATUSES } from '../../core/statuses';
import { WEEKDAYS } from '../../core/wait-until';
import { jsonObject, pageOf, timestamp, uuid } from './common';
import { component } from './registry';
import { Step } from './steps';

const EXAMPLE_TIME = '2026-01-05T09:30:00.000Z';
const nullableText = z.string().nullable();

export const Contact = component(
  'Contact',
  z.strictObject({
    id: uuid,
    email: z.string(),
    subscribed: z.boolean(),
    data: jsonObject,
    tags: z.array(z.string()),
    createdAt: timestamp,
    updatedAt: timestamp,
  }),
  {
    examples: [
      {
        id: '2f1c3f1e-5a8e-4c43-b1f4-6a0c2f6b9d10',
        email: 'ada@example.com',
        subscribed: true,
        data: { plan: 'pro' },
        tags: ['customer'],
        createdAt: EXAMPLE_TIME,
        updatedAt: EXAMPLE_TIME,
      },
    ],
  },
);
export const ContactPage = pageOf('Contact', Contact);

export const TEMPLATE_TYPES = ['MARKETING', 'TRANSACTIONAL', 'HEADLESS'] as const;
export const Template = component(
  'Template',
  z.strictObject({
    id: uuid,
    name: z.string(),
    subject: z.string(),
    body: z.string(),
    text: nullableText,
    from: nullableText,
    fromName: nullableText,
    replyTo: nullableText,
    type: z.enum(TEMPLATE_TYPES),
    createdAt: timestamp,
    updatedAt: timestamp,
  }),
);
export const TemplatePage = pageOf('Template', Template);
export const TemplatePreview = component('TemplatePreview', z.strictObject({ subject: z.string(), html: z.string(), text: z.string() }));

export const TRIGGER_TYPES = ['EVENT', 'MANUAL', 'SCHEDULE'] as const;
export const EventTriggerConfig = component('EventTriggerConfig', z.strictObject({ eventName: z.string().trim().min(1).max(200) }));
export const ManualTriggerConfig = component('ManualTriggerConfig', z.strictObject({}));
export const ScheduleTriggerConfig = component(
  'ScheduleTriggerConfig',
  z.strictObject({ cron: z.string(), timezone: z.string().optional(), segmentId: z.uuid().optional() }),
  {
    description:
      'A 5-field cron (or @hourly … @yearly) in `timezone` (IANA, default UTC); the audience is every subscribed contact, or every subscribed member of `segmentId`.',
  },
);
export const TriggerConfig = component('WorkflowTriggerConfig', z.union([EventTriggerConfig, ManualTriggerConfig, ScheduleTriggerConfig]), {
  description: 'EVENT: `{eventName}`; MANUAL: `{}`; SCHEDULE: `{cron, timezone?, segmentId?}`.',
});

export const ExitOn = component(
  'ExitOn',
  z.strictObject({
    events: z
      .array(z.string().trim().min(1, 'event names must not be empty').max(200))
      .max(50)
      .refine((names) => new Set(names).size === names.length, 'events must not repeat a name')
      .optional(),
    // A contact change has no event: event.* fields are refused, as on segments.
    filter: filterSchema
      .superRefine((filter, ctx) => {
        for (const path of eventFieldPaths(filter)) ctx.addIssue({ code: 'custom', path, message: 'exit goals cannot use event.* fields (there is no event)' });
      })
      .optional(),
    onUnsubscribe: z.boolean().optional(),
  }),
  {
    description:
      'Exit conditions (goals, SPEC §14.3): an event of one of these names, a contact change that makes the contact match `filter` (and a contact that matches it when it enrols), or (with onUnsubscribe) an unsubscribe, ends an active execution as EXITED.',
    examples: [{ events: ['invoice.paid'], onUnsubscribe: true }],
  },
);

export const Workflow = component(
  'Workflow',
  z.strictObject({
    id: uuid,
    name: z.string(),
    description: nullableText,
    triggerType: z.enum(TRIGGER_TYPES),
    triggerConfig: TriggerConfig,
    enabled: z.boolean(),
    archived: z.boolean(),
    status: z.enum(['DRAFT', 'ACTIVE', 'PAUSED', 'ARCHIVED']),
    allowReentry: z.boolean(),
    ignoreQuietHours: z.boolean(),
    exitOn: ExitOn.nullable(),
    version: z.int().min(1),
    createdAt: timestamp,
    updatedAt: timestamp,
  }),
);
export const WorkflowPage = pageOf('Workflow', Workflow);

export const Transition = component('Transition', z.strictObject({ id: uuid, workflowId: uuid, fromStepId: uuid, toStepId: uuid, branch: nullableText }));

const ScheduleView = z.strictObject({
  nextRuns: z.array(timestamp),
  lastTick: z.strictObject({ enrolmentId: uuid, scheduledAt: timestamp, enrolled: z.int().min(0), skipped: z.int().min(0), status: z.string() }).nullable(),
});
export const WorkflowWithGraph = component(
  'WorkflowWithGraph',
  Workflow.extend({ steps: z.array(Step), transitions: z.array(Transition), schedule: ScheduleView.optional() }),
  { description: 'A workflow with its current graph; a SCHEDULE workflow also shows its next three fire times and its last tick.' },
);

export const Execution = component(
  'Execution',
  z.strictObject({
    id: uuid,
    workflowId: uuid,
    contactId: uuid,
    status: z.enum(EXECUTION_STATUSES),
    currentStepId: uuid.nullable(),
    context: jsonObject,
    exitReason: nullableText,
    error: nullableText,
    workflowVersion: z.int().min(1),
    startedAt: timestamp,
    completedAt: timestamp.nullable(),
  }),
);
export const ExecutionPage = pageOf('Execution', Execution);

export const StepExecution = component(
  'StepExecution',
  z.strictObject({
    stepId: uuid,
    type: z.enum(STEP_TYPES),
    name: z.string(),
    status: z.enum(STEP_STATUSES),
    output: z.unknown().nullable(),
    error: nullableText,
    startedAt: timestamp,
    completedAt: timestamp.nullable(),
  }),
  { description: 'One visited step, with its type and name as they were when it ran.' },
);
export const ExecutionWithSteps = component('ExecutionWithSteps', Execution.extend({ steps: z.array(StepExecution) }));
export const CancelAllResult = component('CancelAllResult', z.strictObject({ cancelled: z.int().min(0) }));

export const Event = component(
  'Event',
  z.strictObject({ id: uuid, name: z.string(), contactId: uuid, data: jsonObject, depth: z.int().min(0), createdAt: timestamp }),
);
export const EventPage = pageOf('Event', Event);

export const EMAIL_STATUSES = ['SENT', 'SUPPRESSED', 'FAILED', 'CAPTURED'] as const;
export const Email = component(
  'Email',
  z.strictObject({
    id: uuid,
    contactId: uuid,
    templateId: uuid.nullable(),
    executionId: uuid.nullable(),
    stepId: uuid.nullable(),
    to: z.string(),
    subject: z.string(),
    messageId: z.string(),
    status: z.enum(EMAIL_STATUSES),
    error: nullableText,
    sentAt: timestamp,
    openedAt: timestamp.nullable(),
    clickedAt: timestamp.nullable(),
  }),
);
export const EmailPage = pageOf('Email', Email);

export const MESSAGE_STATUSES = ['SENT', 'FAILED', 'SUPPRESSED', 'CAPTURED'] as const;
export const Message = component(
  'Message',
  z.strictObject({
    id: uuid,
    contactId: uuid,
    executionId: uuid.nullable(),
    stepId: uuid.nullable(),
    to: z.string().meta({ description: 'The number in E.164 when it was one; else as rendered.' }),
    body: z.string(),
    providerId: nullableText.meta({ description: "The provider's id of the message (Twilio's `sid`)." }),
    status: z.enum(MESSAGE_STATUSES),
    error: nullableText,
    sentAt: timestamp,
  }),
  { description: 'A text message of a SEND_SMS step (SPEC §14.2).' },
);
export const MessagePage = pageOf('Message', Message);

export const TrackResult = component(
  'TrackResult',
  z.strictObject({ success: z.literal(true), data: z.strictObject({ contact: uuid, event: uuid, timestamp }) }),
  {
    examples: [
      { success: true, data: { contact: '2f1c3f1e-5a8e-4c43-b1f4-6a0c2f6b9d10', event: '9d3c3b8e-1a52-4b7e-8d0f-1c2b3a4d5e6f', timestamp: EXAMPLE_TIME } },
    ],
  },
);

export const Project = component(
  'Project',
  z.strictObject({ id: uuid, name: z.string(), publicKey: z.string(), inboundAddress: z.string(), createdAt: timestamp }),
);
export const ProjectPage = pageOf('Project', Project);
export const ProjectWithKeys = component(
  'ProjectWithKeys',
  z.strictObject({ id: uuid, name: z.string(), publicKey: z.string(), secretKey: z.string(), inboundAddress: z.string() }),
  { description: 'A new project; the secret key is shown only here.' },
);

export const Health = component('Health', z.strictObject({ status: z.literal('ok') }));
export const Readiness = component(
  'Readiness',
  z.strictObject({
    status: z.enum(['ready', 'not ready']),
    checks: z.strictObject({ postgres: z.boolean(), temporal: z.boolean(), worker: z.boolean() }),
  }),
);

export const Segment = component(
  'Segment',
  z.strictObject({
    id: uuid,
    name: z.string(),
    slug: z.string(),
    filter: jsonObject,
    trackMembership: z.boolean(),
    memberCount: z.int().min(0),
    computing: z.boolean(),
    createdAt: timestamp,
    updatedAt: timestamp,
  }),
  { description: 'A named audience over the filter language; `computing` while its members are being computed.' },
);
export const SegmentPage = pageOf('Segment', Segment);

export const Enrolment = component(
  'Enrolment',
  z.strictObject({
    id: uuid,
    workflowId: uuid,
    source: z.enum(['BULK', 'SCHEDULE']),
    status: z.enum(['RUNNING', 'COMPLETED', 'STOPPED']),
    stopReason: nullableText,
    enrolled: z.int().min(0),
    skipped: z.int().min(0),
    scheduledAt: timestamp.nullable(),
    startedAt: timestamp,
    finishedAt: timestamp.nullable(),
  }),
  { description: "An audience enrolment's progress: a bulk start or one schedule tick." },
);
export const EnrolmentStarted = component('EnrolmentStarted', z.strictObject({ enrolmentId: uuid }));

export const PurgeResult = component('PurgeResult', z.strictObject({ purged: z.number().int().min(0) }));
export const PurgeStarted = component(
  'PurgeStarted',
  z.strictObject({
    purgeId: uuid,
    temporalWorkflowId: z.string().meta({ description: 'The Temporal workflow that carries the purge out (Web UI, `temporal workflow describe`).' }),
  }),
);

export const ProjectSettings = component(
  'ProjectSettings',
  z.strictObject({
    timezone: z.string(),
    quietHours: z
      .strictObject({
        start: z.string(),
        end: z.string(),
        timezone: z.string(),
        days: z.array(z.enum(WEEKDAYS)).optional(),
      })
      .nullable(),
    sms: z.strictObject({ accountSid: z.string(), from: z.string(), baseUrl: z.string() }).nullable(),
    updatedAt: timestamp.nullable(),
  }),
  {
    description: "A project's default zone, quiet hours and SMS provider (SPEC §14.4); the SMS auth token is never shown.",
    examples: [
      {
        timezone: 'America/Chicago',
        quietHours: { start: '21:00', end: '08:00', timezone: 'contact' },
        sms: { accountSid: 'AC0123', from: '+14155550100', baseUrl: 'https://api.twilio.com' },
        updatedAt: EXAMPLE_TIME,
      },
    ],
  },
);
