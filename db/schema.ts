/** The Postgres schema: the system of record for projects, contacts, events, definitions and executions. */
import { sql } from 'drizzle-orm';
import { bigserial, boolean, doublePrecision, index, integer, jsonb, pgTable, primaryKey, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';

const createdAt = () => timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow();
const updatedAt = () => timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow();
type Json = Record<string, unknown>;

export const projects = pgTable('projects', {
  id: uuid('id').primaryKey().defaultRandom(),
  name: text('name').notNull(),
  publicKey: text('public_key').notNull().unique(),
  secretKeyHash: text('secret_key_hash').notNull().unique(),
  createdAt: createdAt(),
});

export const contacts = pgTable(
  'contacts',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    projectId: uuid('project_id')
      .notNull()
      .references(() => projects.id, { onDelete: 'cascade' }),
    email: text('email').notNull(),
    subscribed: boolean('subscribed').notNull().default(true),
    data: jsonb('data').$type<Json>().notNull().default({}),
    tags: text('tags').array().notNull().default(sql`'{}'::text[]`),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('contacts_project_email').on(t.projectId, t.email),
    // GET /contacts?tag= : `tags @> array[tag]`.
    index('contacts_tags').using('gin', t.tags),
    // Keyset pages over a project's contacts (audience enrolment, segment computation).
    index('contacts_project_id').on(t.projectId, t.id),
    // GET /contacts: newest first (read backwards), and its exact total as an index-only count.
    index('contacts_project_created').on(t.projectId, t.createdAt, t.id),
  ],
);

export const events = pgTable(
  'events',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    projectId: uuid('project_id')
      .notNull()
      .references(() => projects.id, { onDelete: 'cascade' }),
    contactId: uuid('contact_id')
      .notNull()
      .references(() => contacts.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    data: jsonb('data').$type<Json>().notNull().default({}),
    /** Causal depth (SPEC §14.2): 0 from outside any execution, else the recording execution's depth + 1. */
    depth: integer('depth').notNull().default(0),
    createdAt: createdAt(),
  },
  // GET /events (by project, contact or name), newest first, read backwards; retention by project and age.
  (t) => [
    index('events_project_created_id').on(t.projectId, t.createdAt, t.id),
    index('events_contact_created_id').on(t.contactId, t.createdAt, t.id),
    index('events_project_name_created').on(t.projectId, t.name, t.createdAt, t.id),
    index('events_created').on(t.createdAt),
  ],
);

export const templates = pgTable(
  'templates',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    projectId: uuid('project_id')
      .notNull()
      .references(() => projects.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    subject: text('subject').notNull(),
    body: text('body').notNull(),
    text: text('text'),
    from: text('from'),
    fromName: text('from_name'),
    replyTo: text('reply_to'),
    type: text('type').notNull().default('MARKETING'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index('templates_project').on(t.projectId)],
);

export const workflows = pgTable(
  'workflows',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    projectId: uuid('project_id')
      .notNull()
      .references(() => projects.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    description: text('description'),
    triggerType: text('trigger_type').notNull(),
    triggerConfig: jsonb('trigger_config').$type<Json>().notNull().default({}),
    /** The trigger's event name, in its own column for enrolment look-ups; kept while the trigger is MANUAL. */
    triggerEvent: text('trigger_event'),
    enabled: boolean('enabled').notNull().default(false),
    /** Set the first time the workflow is enabled: a disabled workflow is PAUSED rather than DRAFT. */
    everEnabled: boolean('ever_enabled').notNull().default(false),
    /** Cosmetic (never locked): hidden from GET /workflows, cannot be enabled until unarchived. */
    archived: boolean('archived').notNull().default(false),
    allowReentry: boolean('allow_reentry').notNull().default(false),
    /** Cosmetic (read live, never locked): its sends are not held during quiet hours (SPEC §14.4). */
    ignoreQuietHours: boolean('ignore_quiet_hours').notNull().default(false),
    /** Exit conditions (SPEC §14.3) `{events?, onUnsubscribe?}`: structural, pinned with the graph. */
    exitOn: jsonb('exit_on').$type<Json>(),
    version: integer('version').notNull().default(1),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    index('workflows_project').on(t.projectId),
    index('workflows_event_trigger').on(t.projectId, t.triggerEvent).where(sql`enabled and trigger_type = 'EVENT'`),
  ],
);

export const steps = pgTable(
  'steps',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    workflowId: uuid('workflow_id')
      .notNull()
      .references(() => workflows.id, { onDelete: 'cascade' }),
    /** The step's name in a workflow document (export/import, PUT …/graph); `trigger` for the TRIGGER. */
    key: text('key').notNull(),
    type: text('type').notNull(),
    name: text('name').notNull(),
    config: jsonb('config').$type<Json>().notNull().default({}),
    position: jsonb('position').$type<{ x: number; y: number }>(),
    createdAt: createdAt(),
  },
  (t) => [index('steps_workflow').on(t.workflowId), uniqueIndex('steps_workflow_key').on(t.workflowId, t.key)],
);

export const transitions = pgTable(
  'transitions',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    workflowId: uuid('workflow_id')
      .notNull()
      .references(() => workflows.id, { onDelete: 'cascade' }),
    fromStepId: uuid('from_step_id')
      .notNull()
      .references(() => steps.id, { onDelete: 'cascade' }),
    toStepId: uuid('to_step_id')
      .notNull()
      .references(() => steps.id, { onDelete: 'cascade' }),
    branch: text('branch'),
    createdAt: createdAt(),
  },
  (t) => [index('transitions_workflow').on(t.workflowId)],
);

/** Immutable graph snapshots: an execution runs on the version it enrolled under. */
export const workflowVersions = pgTable(
  'workflow_versions',
  {
    workflowId: uuid('workflow_id')
      .notNull()
      .references(() => workflows.id, { onDelete: 'cascade' }),
    version: integer('version').notNull(),
    graph: jsonb('graph').notNull(),
    /** Event names that end the version's executions (its exit conditions, `contact.unsubscribed` for onUnsubscribe). */
    exitEvents: text('exit_events').array().notNull().default(sql`'{}'::text[]`),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.workflowId, t.version] })],
);

export const executions = pgTable(
  'executions',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    projectId: uuid('project_id')
      .notNull()
      .references(() => projects.id, { onDelete: 'cascade' }),
    workflowId: uuid('workflow_id')
      .notNull()
      .references(() => workflows.id, { onDelete: 'cascade' }),
    contactId: uuid('contact_id')
      .notNull()
      .references(() => contacts.id, { onDelete: 'cascade' }),
    status: text('status').notNull(),
    currentStepId: uuid('current_step_id'),
    context: jsonb('context').$type<Json>().notNull().default({}),
    exitReason: text('exit_reason'),
    error: text('error'),
    /** The event name a WAIT_FOR_EVENT is waiting for now (null otherwise): tracked events of that name are signalled to it. */
    waitingFor: text('waiting_for'),
    workflowVersion: integer('workflow_version').notNull(),
    /** Causal depth (SPEC §14.2): the starting event's depth, or the starting execution's + 1. */
    depth: integer('depth').notNull().default(0),
    startedAt: timestamp('started_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    completedAt: timestamp('completed_at', { withTimezone: true, mode: 'date' }),
  },
  (t) => [
    // Never two active executions of one workflow for one contact (SPEC §7.3).
    uniqueIndex('executions_one_active').on(t.workflowId, t.contactId).where(sql`status in ('RUNNING', 'WAITING')`),
    // GET /workflows/:id/executions (with or without ?status=) and GET /contacts/:id/executions,
    // newest first (read backwards); the exact totals are index-only counts over the same indexes.
    index('executions_workflow_started').on(t.workflowId, t.startedAt, t.id),
    index('executions_workflow_status_started').on(t.workflowId, t.status, t.startedAt, t.id),
    index('executions_contact_started').on(t.contactId, t.startedAt, t.id),
    // Retention: finished executions by age.
    index('executions_finished').on(t.completedAt).where(sql`status in ('COMPLETED', 'EXITED', 'FAILED', 'CANCELLED')`),
    // A workflow's history purge.
    index('executions_workflow_finished').on(t.workflowId, t.completedAt).where(sql`status in ('COMPLETED', 'EXITED', 'FAILED', 'CANCELLED')`),
  ],
);

/** One row per visited step, in execution order (`seq`). */
export const stepExecutions = pgTable(
  'step_executions',
  {
    executionId: uuid('execution_id')
      .notNull()
      .references(() => executions.id, { onDelete: 'cascade' }),
    seq: integer('seq').notNull(),
    stepId: uuid('step_id').notNull(),
    type: text('type').notNull(),
    name: text('name').notNull(),
    status: text('status').notNull(),
    output: jsonb('output'),
    error: text('error'),
    startedAt: timestamp('started_at', { withTimezone: true, mode: 'date' }).notNull(),
    completedAt: timestamp('completed_at', { withTimezone: true, mode: 'date' }),
  },
  (t) => [primaryKey({ columns: [t.executionId, t.seq] })],
);

export const emails = pgTable(
  'emails',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    projectId: uuid('project_id')
      .notNull()
      .references(() => projects.id, { onDelete: 'cascade' }),
    contactId: uuid('contact_id')
      .notNull()
      .references(() => contacts.id, { onDelete: 'cascade' }),
    templateId: uuid('template_id').references(() => templates.id, { onDelete: 'set null' }),
    executionId: uuid('execution_id').references(() => executions.id, { onDelete: 'set null' }),
    stepId: uuid('step_id'),
    to: text('to').notNull(),
    subject: text('subject').notNull(),
    /** Stable per execution and step: the key that keeps a step from sending twice. */
    messageId: text('message_id').notNull().unique(),
    status: text('status').notNull(),
    error: text('error'),
    sentAt: timestamp('sent_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    openedAt: timestamp('opened_at', { withTimezone: true, mode: 'date' }),
    clickedAt: timestamp('clicked_at', { withTimezone: true, mode: 'date' }),
  },
  // GET /emails (by project, contact or execution), newest first, read backwards; retention by project and age.
  (t) => [
    index('emails_project_sent_id').on(t.projectId, t.sentAt, t.id),
    index('emails_contact_sent').on(t.contactId, t.sentAt, t.id),
    index('emails_execution').on(t.executionId),
    index('emails_sent').on(t.sentAt),
  ],
);

/** Text messages of SEND_SMS steps (SPEC §14.2): one row per execution and step, its id derived from both. */
export const messages = pgTable(
  'messages',
  {
    id: uuid('id').primaryKey(),
    projectId: uuid('project_id')
      .notNull()
      .references(() => projects.id, { onDelete: 'cascade' }),
    contactId: uuid('contact_id')
      .notNull()
      .references(() => contacts.id, { onDelete: 'cascade' }),
    executionId: uuid('execution_id').references(() => executions.id, { onDelete: 'set null' }),
    stepId: uuid('step_id'),
    to: text('to').notNull(),
    body: text('body').notNull(),
    /** The provider's id of the message (Twilio's `sid`), when it took it. */
    providerId: text('provider_id'),
    status: text('status').notNull(),
    error: text('error'),
    sentAt: timestamp('sent_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  // GET /messages (by project, contact or execution), newest first; retention by age.
  (t) => [
    index('messages_project_sent_id').on(t.projectId, t.sentAt, t.id),
    index('messages_contact_sent').on(t.contactId, t.sentAt, t.id),
    index('messages_execution').on(t.executionId),
    index('messages_sent').on(t.sentAt),
  ],
);

/**
 * Temporal commands committed with the Postgres change that causes them (start, signal, cancel) and
 * carried out by the dispatcher, so that an answered request never loses them.
 */
export const outbox = pgTable(
  'outbox',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    kind: text('kind').notNull(),
    executionId: uuid('execution_id').notNull(),
    payload: jsonb('payload').$type<Json>().notNull().default({}),
    /** Failed attempts that count toward the dead-letter limit (Temporal unreachable or slow never counts). */
    attempts: integer('attempts').notNull().default(0),
    /** When it may next be claimed: now, after a retry's backoff, or when a dispatcher's lease runs out. */
    availableAt: timestamp('available_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    /** Set while a dispatcher carries it out (its lease); also the claim's token. */
    lockedUntil: timestamp('locked_until', { withTimezone: true, mode: 'date' }),
    lastError: text('last_error'),
    createdAt: createdAt(),
  },
  (t) => [
    // Two lanes, each claimed by its own scan: a cancel-all's thousands of cancels, paced by their
    // window (db/outbox.ts), never stand before the starts and signals queued after them.
    index('outbox_due_commands').on(t.availableAt, t.id).where(sql`kind <> 'cancel'`),
    index('outbox_due_cancels').on(t.availableAt, t.id).where(sql`kind = 'cancel'`),
    index('outbox_execution').on(t.executionId, t.id),
  ],
);

/** Outbox commands that failed for good: kept for operators; their execution was marked FAILED. */
export const outboxDeadLetters = pgTable(
  'outbox_dead_letters',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    kind: text('kind').notNull(),
    executionId: uuid('execution_id').notNull(),
    payload: jsonb('payload').$type<Json>().notNull().default({}),
    attempts: integer('attempts').notNull(),
    error: text('error').notNull(),
    queuedAt: timestamp('queued_at', { withTimezone: true, mode: 'date' }).notNull(),
    failedAt: timestamp('failed_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [index('outbox_dead_letters_execution').on(t.executionId)],
);

export const idempotencyKeys = pgTable(
  'idempotency_keys',
  {
    projectId: uuid('project_id')
      .notNull()
      .references(() => projects.id, { onDelete: 'cascade' }),
    key: text('key').notNull(),
    requestHash: text('request_hash').notNull(),
    statusCode: integer('status_code'),
    response: jsonb('response'),
    createdAt: createdAt(),
  },
  // Keys expire after 24 h: the purge finds them by age.
  (t) => [primaryKey({ columns: [t.projectId, t.key] }), index('idempotency_keys_created').on(t.createdAt)],
);

/**
 * A project's settings (SPEC §14.4); a project without a row has the defaults (UTC, no quiet hours,
 * no SMS provider). The SMS provider's auth token is kept sealed with the installation key.
 */
export const projectSettings = pgTable('project_settings', {
  projectId: uuid('project_id')
    .primaryKey()
    .references(() => projects.id, { onDelete: 'cascade' }),
  timezone: text('timezone').notNull().default('UTC'),
  /** `{start, end, timezone, days?}` or null. */
  quietHours: jsonb('quiet_hours').$type<Json>(),
  /** `{accountSid, from, baseUrl, sealedAuthToken}` or null. */
  sms: jsonb('sms').$type<Json>(),
  updatedAt: updatedAt(),
});

/** Secrets of this installation, created on first use and shared by every process (e.g. the email-link key). */
export const instanceSecrets = pgTable('instance_secrets', {
  name: text('name').primaryKey(),
  value: text('value').notNull(),
  createdAt: createdAt(),
});

/** The first click of each link of an email (the link by its SHA-256, so any length fits the key). */
export const emailClicks = pgTable(
  'email_clicks',
  {
    emailId: uuid('email_id')
      .notNull()
      .references(() => emails.id, { onDelete: 'cascade' }),
    linkHash: text('link_hash').notNull(),
    link: text('link').notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.emailId, t.linkHash] })],
);

/**
 * Named audiences over the filter tree of SPEC §7.5. Membership is stored (segment_members) and kept
 * current per contact as contacts change; a filter change recomputes it in the background.
 */
export const segments = pgTable(
  'segments',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    projectId: uuid('project_id')
      .notNull()
      .references(() => projects.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    slug: text('slug').notNull(),
    filter: jsonb('filter').$type<Json>().notNull(),
    trackMembership: boolean('track_membership').notNull().default(false),
    /** Bumped by every filter change: a background computation of an older generation stops. */
    generation: integer('generation').notNull().default(1),
    /** True while a background computation of the current generation pages through the contacts. */
    computing: boolean('computing').notNull().default(true),
    /**
     * True until the first computation has finished: until then the stored membership is no baseline,
     * so nothing records entry/exit events for this segment.
     */
    initializing: boolean('initializing').notNull().default(true),
    /** The filter uses `within` / `olderThan`: the periodic refresh re-evaluates it. */
    timeRelative: boolean('time_relative').notNull().default(false),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex('segments_project_slug').on(t.projectId, t.slug), index('segments_time_relative').on(t.id).where(sql`time_relative`)],
);

/** The contacts that match a segment's filter now; keyset-paged by (segment_id, contact_id). */
export const segmentMembers = pgTable(
  'segment_members',
  {
    segmentId: uuid('segment_id')
      .notNull()
      .references(() => segments.id, { onDelete: 'cascade' }),
    contactId: uuid('contact_id')
      .notNull()
      .references(() => contacts.id, { onDelete: 'cascade' }),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.segmentId, t.contactId] }), index('segment_members_contact').on(t.contactId)],
);

/**
 * One audience enrolment: a SCHEDULE tick or a bulk start, carried out by a Temporal workflow in
 * batches. `cursor` (the last contact id handled) commits with each batch's enrolments, so a retried
 * batch neither enrols twice nor skips anyone.
 */
export const enrolments = pgTable(
  'enrolments',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    projectId: uuid('project_id')
      .notNull()
      .references(() => projects.id, { onDelete: 'cascade' }),
    workflowId: uuid('workflow_id')
      .notNull()
      .references(() => workflows.id, { onDelete: 'cascade' }),
    /** `SCHEDULE` or `BULK`. */
    source: text('source').notNull(),
    /** The whole project's subscribed contacts (no segment, no list), a segment's members, or a list of ids. */
    segmentId: uuid('segment_id'),
    contactIds: uuid('contact_ids').array(),
    subscribedOnly: boolean('subscribed_only').notNull(),
    context: jsonb('context').$type<Json>().notNull().default({}),
    /** `RUNNING`, `COMPLETED` or `STOPPED` (with `stopReason`). */
    status: text('status').notNull().default('RUNNING'),
    stopReason: text('stop_reason'),
    enrolled: integer('enrolled').notNull().default(0),
    skipped: integer('skipped').notNull().default(0),
    cursor: uuid('cursor'),
    /** The tick's scheduled time (SCHEDULE only). */
    scheduledAt: timestamp('scheduled_at', { withTimezone: true, mode: 'date' }),
    startedAt: timestamp('started_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    finishedAt: timestamp('finished_at', { withTimezone: true, mode: 'date' }),
  },
  (t) => [
    // One enrolment per tick, however often the tick's workflow asks for it.
    uniqueIndex('enrolments_tick').on(t.workflowId, t.scheduledAt).where(sql`source = 'SCHEDULE'`),
    index('enrolments_workflow').on(t.workflowId, t.startedAt),
  ],
);

/**
 * Token buckets shared by every API process (the `/v1/track` limit per project): one row per key,
 * refilled by the time since `updated_at` and taken from by one atomic statement per request.
 */
export const rateLimits = pgTable('rate_limits', {
  key: text('key').primaryKey(),
  tokens: doublePrecision('tokens').notNull(),
  updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull(),
});
