/** Executions of a workflow (SPEC §5.5): manual start, history, cancel one, cancel all. */
import { z } from 'zod';
import { EXECUTION_STATUSES } from '../../core/statuses';
import { endpoint, pathParam } from '../endpoint';
import { emailInput, jsonObject, pagination } from '../schemas/common';
import { documentAs } from '../schemas/registry';
import { CancelAllResult, Execution, ExecutionPage, ExecutionWithSteps } from '../schemas/resources';

const workflowId = { id: pathParam.id('workflow') };
const executionId = { id: pathParam.id('workflow'), executionId: pathParam.id('execution') };
const TEMPORAL_DOWN = { 503: ['SERVICE_UNAVAILABLE'] };

export const startExecution = endpoint({
  operationId: 'startExecution',
  method: 'post',
  path: '/workflows/:id/executions',
  auth: 'sk',
  tag: 'Executions',
  summary: 'Start an execution for a contact',
  description: 'Give `contactId`, or `email` (the contact is created if needed). Allowed for every trigger type while the workflow is enabled.',
  params: workflowId,
  body: documentAs(
    z
      .strictObject({ contactId: z.uuid().optional(), email: emailInput().optional(), context: jsonObject.optional() })
      .refine((b) => (b.contactId === undefined) !== (b.email === undefined), { message: 'give exactly one of contactId or email' }),
    z.union([z.strictObject({ contactId: z.uuid(), context: jsonObject.optional() }), z.strictObject({ email: emailInput(), context: jsonObject.optional() })]),
  ),
  bodyExample: { email: 'ada@example.com', context: { source: 'import' } },
  responses: { 201: Execution },
  errors: { 400: ['WORKFLOW_DISABLED'], 409: ['REENTRY_NOT_ALLOWED'] },
});

export const listExecutions = endpoint({
  operationId: 'listExecutions',
  method: 'get',
  path: '/workflows/:id/executions',
  auth: 'sk',
  tag: 'Executions',
  summary: "List a workflow's executions",
  params: workflowId,
  query: z.object({ status: z.enum(EXECUTION_STATUSES).optional(), contactId: z.uuid().optional(), ...pagination }),
  responses: { 200: ExecutionPage },
});

export const cancelAllExecutions = endpoint({
  operationId: 'cancelAllExecutions',
  method: 'post',
  path: '/workflows/:id/executions/cancel-all',
  auth: 'sk',
  tag: 'Executions',
  summary: 'Cancel every active execution of a workflow',
  description: 'When it answers, every RUNNING or WAITING execution is CANCELLED and runs no further step. Needs Temporal (503 while unreachable).',
  params: workflowId,
  responses: { 200: CancelAllResult },
  errors: TEMPORAL_DOWN,
});

export const getExecution = endpoint({
  operationId: 'getExecution',
  method: 'get',
  path: '/workflows/:id/executions/:executionId',
  auth: 'sk',
  tag: 'Executions',
  summary: 'Get an execution with its step history',
  params: executionId,
  responses: { 200: ExecutionWithSteps },
});

export const cancelExecution = endpoint({
  operationId: 'cancelExecution',
  method: 'delete',
  path: '/workflows/:id/executions/:executionId',
  auth: 'sk',
  tag: 'Executions',
  summary: 'Cancel an execution',
  description: 'Answers the execution, CANCELLED; 409 if it had already finished. Needs Temporal (503 while unreachable).',
  params: executionId,
  responses: { 200: Execution },
  errors: { 409: ['CONFLICT'], ...TEMPORAL_DOWN },
});
