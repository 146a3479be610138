/** Workflow documents (SPEC §5.3): what a client writes and what export and stats answer. */
import { z } from 'zod';
import { EXECUTION_STATUSES } from '../../core/statuses';
import { documentKey, graphDocument } from '../../core/workflow-document';
import { emailInput, jsonObject, uuid } from './common';
import { component } from './registry';
import { ExitOn, TEMPLATE_TYPES, TRIGGER_TYPES } from './resources';

/** What a client writes for a template: the fields of /templates and of documents' `templates`. */
export const templateFields = {
  name: z.string().trim().min(1).max(200),
  subject: z.string().min(1).max(998),
  body: z.string().min(1).max(1_000_000),
  text: z.string().max(1_000_000).nullable().optional(),
  from: emailInput().nullable().optional(),
  // A display name goes into the From header: no line breaks or other control characters.
  fromName: z
    .string()
    .max(200)
    // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point.
    .regex(/^[^\u0000-\u001f\u007f]*$/, 'must not contain line breaks or control characters')
    .nullable()
    .optional(),
  replyTo: emailInput().nullable().optional(),
  type: z.enum(TEMPLATE_TYPES).optional(),
};

/** An email template embedded in a document, named by `key`. */
export const documentTemplate = z.strictObject({ key: documentKey, ...templateFields });

/** The graph of a document: steps with keys, transitions between keys, the templates they bring. */
export const graphBody = z.strictObject({ ...graphDocument, templates: z.array(documentTemplate).max(100).optional() });

export const WorkflowDocument = component(
  'WorkflowDocument',
  z.strictObject({
    name: z.string(),
    description: z.string().nullable(),
    triggerType: z.enum(TRIGGER_TYPES),
    triggerConfig: jsonObject,
    allowReentry: z.boolean(),
    exitOn: ExitOn.nullable(),
    templates: z.array(
      z.strictObject({
        key: z.string(),
        name: z.string(),
        subject: z.string(),
        body: z.string(),
        text: z.string().nullable(),
        from: z.string().nullable(),
        fromName: z.string().nullable(),
        replyTo: z.string().nullable(),
        type: z.enum(TEMPLATE_TYPES),
      }),
    ),
    steps: z.array(
      z.strictObject({
        key: z.string(),
        type: z.string(),
        name: z.string(),
        config: jsonObject,
        position: z.strictObject({ x: z.number(), y: z.number() }).nullable(),
      }),
    ),
    transitions: z.array(z.strictObject({ from: z.string(), to: z.string(), branch: z.string().nullable() })),
  }),
  { description: 'A workflow as one document: import it with POST /workflows into any project.' },
);

const counts = { active: z.int().min(0), entered: z.int().min(0), completed: z.int().min(0), failed: z.int().min(0), exited: z.int().min(0) };
export const WorkflowStats = component(
  'WorkflowStats',
  z.strictObject({
    workflowId: uuid,
    version: z.int(),
    executions: z.strictObject({ ...Object.fromEntries(EXECUTION_STATUSES.map((s) => [s, z.int().min(0)])), total: z.int().min(0) }),
    conversions: z.int().min(0),
    steps: z.array(
      z.strictObject({
        stepId: uuid,
        key: z.string(),
        type: z.string(),
        name: z.string(),
        ...counts,
        branches: z.record(z.string(), z.int().min(0)).optional(),
      }),
    ),
  }),
  { description: 'Executions by status, goal conversions, and per step: active now, visits entered, completed, failed, exited there, and branch counts.' },
);

export const WorkflowTemplateList = component(
  'WorkflowTemplateList',
  z.strictObject({
    data: z.array(z.strictObject({ key: z.string(), name: z.string(), description: z.string() })),
  }),
  { description: 'Every built-in workflow, by key (the name of its file under examples/).' },
);
