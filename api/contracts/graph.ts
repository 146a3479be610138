/** Steps and transitions of a workflow (SPEC §5.4). */
import { z } from 'zod';
import { STEP_TYPES } from '../../core/graph';
import { endpoint, pathParam } from '../endpoint';
import { documentAs } from '../schemas/registry';
import { Transition } from '../schemas/resources';
import { Position, Step, StepConfig, StepCreate } from '../schemas/steps';

const name = z.string().trim().min(1).max(200);
const LOCKED = { 409: ['WORKFLOW_LOCKED'] };
// Checked for the step's type by the handler; left out, it is `{}`.
const config = z.unknown().refine((value) => value !== null, 'config must be an object');

export const createStep = endpoint({
  operationId: 'createStep',
  method: 'post',
  path: '/workflows/:id/steps',
  auth: 'sk',
  tag: 'Steps and transitions',
  summary: 'Add a step',
  description: 'A structural edit. The config is validated for the type, with the path of every bad field (`config.amount`).',
  params: { id: pathParam.id('workflow') },
  // The config is checked for the type by the handler (core/step-configs.ts), so that each error
  // names its field; the document shows the discriminated union instead.
  body: documentAs(z.strictObject({ type: z.enum(STEP_TYPES), name: name.optional(), config: config.optional(), position: Position.optional() }), StepCreate),
  bodyExample: { type: 'DELAY', name: 'Wait a day', config: { amount: 1, unit: 'days' } },
  responses: { 201: Step },
  errors: LOCKED,
});

export const updateStep = endpoint({
  operationId: 'updateStep',
  method: 'patch',
  path: '/workflows/:id/steps/:stepId',
  auth: 'sk',
  tag: 'Steps and transitions',
  summary: 'Update a step',
  description: 'A config change is structural; name and position are cosmetic.',
  params: { id: pathParam.id('workflow'), stepId: pathParam.id('step') },
  body: z.strictObject({ name: name.optional(), config: documentAs(config, StepConfig).optional(), position: Position.nullable().optional() }),
  bodyExample: { name: 'Wait two days', config: { amount: 2, unit: 'days' } },
  responses: { 200: Step },
  errors: LOCKED,
});

export const deleteStep = endpoint({
  operationId: 'deleteStep',
  method: 'delete',
  path: '/workflows/:id/steps/:stepId',
  auth: 'sk',
  tag: 'Steps and transitions',
  summary: 'Delete a step',
  description: 'With its transitions; `splice=true` reconnects its predecessors to its one successor.',
  params: { id: pathParam.id('workflow'), stepId: pathParam.id('step') },
  query: z.object({ splice: z.enum(['true', 'false']).optional() }),
  responses: { 204: null },
  errors: LOCKED,
});

export const createTransition = endpoint({
  operationId: 'createTransition',
  method: 'post',
  path: '/workflows/:id/transitions',
  auth: 'sk',
  tag: 'Steps and transitions',
  summary: 'Connect two steps',
  description: 'Checked by the graph rules (no cycle, branches per step type, nothing into the TRIGGER).',
  params: { id: pathParam.id('workflow') },
  body: z.strictObject({ fromStepId: z.uuid(), toStepId: z.uuid(), branch: z.string().min(1).max(50).nullable().optional() }),
  bodyExample: { fromStepId: '6b1f7d0e-8f3c-4d4c-9a57-0a1c9b1e2f30', toStepId: '1d2e3f40-5a6b-4c7d-8e9f-0a1b2c3d4e5f', branch: 'yes' },
  responses: { 201: Transition },
  errors: LOCKED,
});

export const deleteTransition = endpoint({
  operationId: 'deleteTransition',
  method: 'delete',
  path: '/workflows/:id/transitions/:transitionId',
  auth: 'sk',
  tag: 'Steps and transitions',
  summary: 'Delete a transition',
  params: { id: pathParam.id('workflow'), transitionId: pathParam.id('transition') },
  responses: { 204: null },
  errors: LOCKED,
});
