/**
 * Steps and their configs in the document: a discriminated union by `type`, one config schema per
 * type (SPEC §5.4), and the filter language (§7.5) as a real schema.
 */
import { z } from 'zod';
import { comparisonSchema, filterSchema, filterTreeSchema } from '../../core/filter-schema';
import { STEP_TYPES, type StepType } from '../../core/graph';
import { stepConfigSchemas } from '../../core/step-configs';
import { component, documentAs } from './registry';

export const FilterComparison = component('FilterComparison', comparisonSchema, {
  description: 'One comparison of a field with a value.',
  examples: [{ field: 'data.plan', operator: 'equals', value: 'pro' }],
});
export const FilterTree = component('FilterTree', filterTreeSchema, {
  description: 'Groups of comparisons (ANDed within a group) joined by `logic`; `conditions` nests another tree.',
});
export const Filter = component('Filter', z.union([FilterComparison, FilterTree]), { description: 'A comparison or a tree of them (SPEC §7.5).' });
// The runtime filter schema tells the two forms apart by hand so that errors name the bad field.
documentAs(filterSchema, Filter);

const CONFIG_NAMES: Record<StepType, string> = {
  TRIGGER: 'TriggerStepConfig',
  SEND_EMAIL: 'SendEmailConfig',
  DELAY: 'DelayConfig',
  WAIT_FOR_EVENT: 'WaitForEventConfig',
  CONDITION: 'ConditionConfig',
  WEBHOOK: 'WebhookConfig',
  UPDATE_CONTACT: 'UpdateContactConfig',
  EXIT: 'ExitConfig',
  SPLIT: 'SplitConfig',
  TRIGGER_EVENT: 'TriggerEventConfig',
  START_WORKFLOW: 'StartWorkflowConfig',
  WAIT_UNTIL: 'WaitUntilConfig',
  SEND_SMS: 'SendSmsConfig',
};
for (const type of STEP_TYPES) if (type !== 'CONDITION') component(CONFIG_NAMES[type], stepConfigSchemas[type]);

/** Any step type's config (the body of a config edit, whose type is the step's). */
export const StepConfig = component('StepConfig', z.union(STEP_TYPES.map((t) => stepConfigSchemas[t])), {
  description: "A step's config; which form applies depends on the step's type.",
});

export const Position = component('Position', z.strictObject({ x: z.number(), y: z.number() }), { description: 'Where the step sits on a canvas.' });
const stepName = z.string().trim().min(1).max(200);

function storedStep<T extends StepType>(type: T) {
  return z.strictObject({
    id: z.uuid(),
    workflowId: z.uuid(),
    key: z.string(),
    type: z.literal(type),
    name: z.string(),
    config: stepConfigSchemas[type],
    position: Position.nullable(),
  });
}

// A missing config reads as `{}`, so it may be left out where `{}` is a valid config (EXIT).
function newStep<T extends StepType>(type: T) {
  const config = stepConfigSchemas[type].safeParse({}).success ? stepConfigSchemas[type].optional() : stepConfigSchemas[type];
  return z.strictObject({ type: z.literal(type), name: stepName.optional(), config, position: Position.optional() });
}

/** The stored step: `{id, workflowId, key, type, name, config, position}` with the config of its type. */
export const Step = component(
  'Step',
  z.discriminatedUnion('type', [
    storedStep('TRIGGER'),
    storedStep('SEND_EMAIL'),
    storedStep('DELAY'),
    storedStep('WAIT_FOR_EVENT'),
    storedStep('CONDITION'),
    storedStep('WEBHOOK'),
    storedStep('UPDATE_CONTACT'),
    storedStep('EXIT'),
    storedStep('SPLIT'),
    storedStep('TRIGGER_EVENT'),
    storedStep('START_WORKFLOW'),
    storedStep('WAIT_UNTIL'),
    storedStep('SEND_SMS'),
  ]),
  {
    examples: [
      {
        id: '6b1f7d0e-8f3c-4d4c-9a57-0a1c9b1e2f30',
        workflowId: '0f8fad5b-d9cb-469f-a165-70867728950e',
        key: 'delay_1',
        type: 'DELAY',
        name: 'Wait a day',
        config: { amount: 1, unit: 'days' },
        position: null,
      },
    ],
  },
);

/** The body of `POST /workflows/:id/steps` as the document shows it: the config follows the type. */
export const StepCreate = component(
  'StepCreate',
  z.discriminatedUnion('type', [
    newStep('SEND_EMAIL'),
    newStep('DELAY'),
    newStep('WAIT_FOR_EVENT'),
    newStep('CONDITION'),
    newStep('WEBHOOK'),
    newStep('UPDATE_CONTACT'),
    newStep('EXIT'),
    newStep('SPLIT'),
    newStep('TRIGGER_EVENT'),
    newStep('START_WORKFLOW'),
    newStep('WAIT_UNTIL'),
    newStep('SEND_SMS'),
  ]),
  { description: 'A new step (any type but TRIGGER): an optional name (a default per type), its config, an optional position.' },
);
