/** /workflows (SPEC §5.3): definitions, triggers, duplicate and delete. */
import { z } from 'zod';
import { graphBody } from '../schemas/documents';
import { endpoint, pathParam } from '../endpoint';
import { pagination } from '../schemas/common';
import { documentAs } from '../schemas/registry';
import { ExitOn, TRIGGER_TYPES, TriggerConfig, Workflow, WorkflowPage, WorkflowWithGraph } from '../schemas/resources';

const workflowId = { id: pathParam.id('workflow') };
const name = z.string().trim().min(1).max(200);
const description = z.string().max(2000).nullable().optional();
// Checked against the (new) trigger type by the handler, so that its errors say `triggerConfig.<field>`.
const triggerConfig = documentAs(z.record(z.string(), z.unknown()), TriggerConfig);

export const createWorkflow = endpoint({
  operationId: 'createWorkflow',
  method: 'post',
  path: '/workflows',
  auth: 'sk',
  tag: 'Workflows',
  summary: 'Create a workflow',
  description:
    'Disabled, version 1, with its TRIGGER step: `{name, eventName}` makes an EVENT trigger on `eventName`; a whole workflow document (`triggerType`, `triggerConfig`, `exitOn`, `templates`, `steps`, `transitions`, as GET /workflows/:id/export gives it) makes the workflow with its graph and templates in one transaction.',
  body: z.strictObject({
    name,
    eventName: z.string().trim().min(1).max(200).optional(),
    description,
    allowReentry: z.boolean().optional(),
    triggerType: z.enum(TRIGGER_TYPES).optional(),
    triggerConfig: z.record(z.string(), z.unknown()).optional(),
    exitOn: ExitOn.nullable().optional(),
    steps: graphBody.shape.steps.optional(),
    transitions: graphBody.shape.transitions.optional(),
    templates: graphBody.shape.templates,
  }),
  bodyExample: { name: 'Welcome series', eventName: 'signed_up', allowReentry: false },
  responses: { 201: WorkflowWithGraph },
});

export const listWorkflows = endpoint({
  operationId: 'listWorkflows',
  method: 'get',
  path: '/workflows',
  auth: 'sk',
  tag: 'Workflows',
  summary: 'List workflows',
  query: z.object({
    search: z.string().optional(),
    enabled: z.enum(['true', 'false']).optional(),
    archived: z.enum(['true', 'false']).optional(),
    ...pagination,
  }),
  responses: { 200: WorkflowPage },
});

export const getWorkflow = endpoint({
  operationId: 'getWorkflow',
  method: 'get',
  path: '/workflows/:id',
  auth: 'sk',
  tag: 'Workflows',
  summary: 'Get a workflow with its steps and transitions',
  params: workflowId,
  responses: { 200: WorkflowWithGraph },
});

export const updateWorkflow = endpoint({
  operationId: 'updateWorkflow',
  method: 'patch',
  path: '/workflows/:id',
  auth: 'sk',
  tag: 'Workflows',
  summary: 'Update a workflow',
  description:
    'Name, description, enabled and allowReentry are cosmetic; a trigger change is structural (409 WORKFLOW_LOCKED while enabled with active executions) and the event name is fixed once the workflow has executions.',
  params: workflowId,
  body: z.strictObject({
    name: name.optional(),
    description,
    enabled: z.boolean().optional(),
    allowReentry: z.boolean().optional(),
    archived: z.boolean().optional(),
    ignoreQuietHours: z.boolean().optional(),
    exitOn: ExitOn.nullable().optional(),
    triggerType: z.enum(TRIGGER_TYPES).optional(),
    triggerConfig: triggerConfig.optional(),
  }),
  bodyExample: { enabled: true },
  responses: { 200: Workflow },
  errors: { 409: ['WORKFLOW_LOCKED', 'TRIGGER_EVENT_IMMUTABLE', 'CONFLICT'] },
});

export const deleteWorkflow = endpoint({
  operationId: 'deleteWorkflow',
  method: 'delete',
  path: '/workflows/:id',
  auth: 'sk',
  tag: 'Workflows',
  summary: 'Delete a workflow',
  description: 'Refused (409) while it has active executions; its emails stay with `executionId: null`.',
  params: workflowId,
  responses: { 204: null },
  errors: { 409: ['CONFLICT'] },
});

export const duplicateWorkflow = endpoint({
  operationId: 'duplicateWorkflow',
  method: 'post',
  path: '/workflows/:id/duplicate',
  auth: 'sk',
  tag: 'Workflows',
  summary: 'Duplicate a workflow',
  description: 'A disabled copy named "<name> (copy)" with its graph.',
  params: workflowId,
  responses: { 201: WorkflowWithGraph },
});
