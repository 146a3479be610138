/** A workflow as one document (SPEC §5.3): its graph in one request, its export, and where its contacts are. */
import { endpoint, pathParam } from '../endpoint';
import { graphBody, WorkflowDocument, WorkflowStats } from '../schemas/documents';
import { WorkflowWithGraph } from '../schemas/resources';

const workflowId = { id: pathParam.id('workflow') };
const TAG = 'Workflow documents';
const LOCKED = { 409: ['WORKFLOW_LOCKED'] };

const exampleGraph = {
  templates: [{ key: 'welcome', name: 'Welcome', subject: 'Welcome, {{firstName ?? friend}}!', body: '<p>Hi!</p>' }],
  steps: [
    { key: 'send_welcome', type: 'SEND_EMAIL', config: { templateKey: 'welcome' } },
    { key: 'wait_2_days', type: 'DELAY', config: { amount: 2, unit: 'days' } },
  ],
  transitions: [
    { from: 'trigger', to: 'send_welcome' },
    { from: 'send_welcome', to: 'wait_2_days' },
  ],
};

export const replaceWorkflowGraph = endpoint({
  operationId: 'replaceWorkflowGraph',
  method: 'put',
  path: '/workflows/:id/graph',
  auth: 'sk',
  tag: TAG,
  summary: "Replace a workflow's graph",
  description:
    'In one transaction. Steps whose key it keeps keep their ids. Structural unless only names and positions change. Embedded templates are created.',
  params: workflowId,
  body: graphBody,
  bodyExample: exampleGraph,
  responses: { 200: WorkflowWithGraph },
  errors: LOCKED,
});

export const exportWorkflow = endpoint({
  operationId: 'exportWorkflow',
  method: 'get',
  path: '/workflows/:id/export',
  auth: 'sk',
  tag: TAG,
  summary: 'Export a workflow as a document',
  params: workflowId,
  responses: { 200: WorkflowDocument },
});

export const getWorkflowStats = endpoint({
  operationId: 'getWorkflowStats',
  method: 'get',
  path: '/workflows/:id/stats',
  auth: 'sk',
  tag: TAG,
  summary: 'Where contacts are: counts per step',
  params: workflowId,
  responses: { 200: WorkflowStats },
});

export const getWorkflowDiagram = endpoint({
  operationId: 'getWorkflowDiagram',
  method: 'get',
  path: '/workflows/:id/diagram',
  auth: 'sk',
  tag: TAG,
  summary: 'The graph as a Mermaid diagram with counts',
  params: workflowId,
  responses: { 200: { description: 'Mermaid flowchart text; each step shows its active and visit counts.', contentType: 'text/vnd.mermaid' } },
});
