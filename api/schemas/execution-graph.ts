/** The graph snapshot an execution is pinned to, as `GET …/executions/:executionId/graph` answers it. */
import { z } from 'zod';
import type { StepType } from '../../core/graph';
import { stepConfigSchemas } from '../../core/step-configs';
import { uuid } from './common';
import { component } from './registry';
import { ExitOn } from './resources';

function pinnedStep<T extends StepType>(type: T) {
  return z.strictObject({ id: uuid, type: z.literal(type), name: z.string(), config: stepConfigSchemas[type] });
}

export const ExecutionGraph = component(
  'ExecutionGraph',
  z.strictObject({
    workflowId: uuid,
    version: z.int().min(1),
    steps: z.array(
      z.discriminatedUnion('type', [
        pinnedStep('TRIGGER'),
        pinnedStep('SEND_EMAIL'),
        pinnedStep('DELAY'),
        pinnedStep('WAIT_FOR_EVENT'),
        pinnedStep('CONDITION'),
        pinnedStep('WEBHOOK'),
        pinnedStep('UPDATE_CONTACT'),
        pinnedStep('EXIT'),
        pinnedStep('SPLIT'),
        pinnedStep('TRIGGER_EVENT'),
        pinnedStep('START_WORKFLOW'),
        pinnedStep('WAIT_UNTIL'),
        pinnedStep('SEND_SMS'),
      ]),
    ),
    transitions: z.array(z.strictObject({ id: uuid, fromStepId: uuid, toStepId: uuid, branch: z.string().nullable() })),
    exitOn: ExitOn.optional(),
  }),
  {
    description:
      "The workflow's graph as it was at the version the execution enrolled under: its steps (without canvas positions) and transitions. Later edits of the workflow do not change it.",
  },
);
