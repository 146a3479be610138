/** Workflow templates (SPEC §14.5): the built-in workflows of examples/, and creating one. */
import { z } from 'zod';
import { endpoint } from '../endpoint';
import { WorkflowTemplateList } from '../schemas/documents';
import { WorkflowWithGraph } from '../schemas/resources';

const TAG = 'Workflow templates';

export const listWorkflowTemplates = endpoint({
  operationId: 'listWorkflowTemplates',
  method: 'get',
  path: '/workflow-templates',
  auth: 'sk',
  tag: TAG,
  summary: 'List the built-in workflows',
  responses: { 200: WorkflowTemplateList },
});

export const createWorkflowFromTemplate = endpoint({
  operationId: 'createWorkflowFromTemplate',
  method: 'post',
  path: '/workflows/from-template',
  auth: 'sk',
  tag: TAG,
  summary: 'Create a workflow from a built-in one',
  description:
    'Disabled, with the template\'s graph, trigger and exit conditions, and the email templates it needs created in the project with names starting "[Placeholder] " (edit them, then rename). An unknown template key answers 404.',
  body: z.strictObject({
    template: z.string().trim().min(1).max(100),
    name: z.string().trim().min(1).max(200).optional(),
  }),
  bodyExample: { template: 'payment-overdue-escalation', name: 'Overdue invoices' },
  responses: { 201: WorkflowWithGraph },
  errors: { 404: ['NOT_FOUND'] },
});
