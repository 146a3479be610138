import { describe, expect, it } from 'vitest';
import { type GraphSnapshot, type GraphStep, openingWait } from '../../core/graph';
import { nextStepId, triggerStep } from '../../temporal/interpreter/transitions';

const step = (id: string, type: GraphStep['type'], config: object = {}) => ({ id, type, name: id, config }) as GraphStep;
const graph = (steps: GraphStep[], edges: [string, string, (string | null)?][]): GraphSnapshot => ({
  workflowId: 'w',
  version: 1,
  steps,
  transitions: edges.map(([from, to, branch], i) => ({ id: `t${i}`, fromStepId: from, toStepId: to, branch: branch ?? null })),
});
const wait = step('wait', 'WAIT_FOR_EVENT', { eventName: 'go' });

/** The step the interpreter visits first (temporal/interpreter/run.ts). */
const interpreterFirst = (g: GraphSnapshot) => {
  const trigger = triggerStep(g);
  return trigger ? nextStepId(g, trigger.id) : undefined;
};

describe('openingWait: the WAIT_FOR_EVENT enrolment opens', () => {
  const cases: [string, GraphSnapshot, string | undefined][] = [
    ['the TRIGGER goes to a wait', graph([step('t', 'TRIGGER'), wait], [['t', 'wait']]), 'wait'],
    [
      'the TRIGGER goes to a DELAY',
      graph(
        [step('t', 'TRIGGER'), step('d', 'DELAY'), wait],
        [
          ['t', 'd'],
          ['d', 'wait'],
        ],
      ),
      undefined,
    ],
    [
      'a wait later in the graph only',
      graph(
        [step('t', 'TRIGGER'), step('u', 'UPDATE_CONTACT'), wait],
        [
          ['t', 'u'],
          ['u', 'wait'],
        ],
      ),
      undefined,
    ],
    ['the TRIGGER goes nowhere', graph([step('t', 'TRIGGER'), wait], []), undefined],
    ['no TRIGGER', graph([wait], []), undefined],
    // Steps and transitions listed out of order: the first unbranched transition out of the TRIGGER counts.
    [
      'transitions listed before the TRIGGER',
      graph(
        [wait, step('t', 'TRIGGER'), step('e', 'EXIT')],
        [
          ['wait', 'e'],
          ['t', 'wait'],
          ['t', 'e'],
        ],
      ),
      'wait',
    ],
    [
      'a branched transition out of the TRIGGER first',
      graph(
        [step('t', 'TRIGGER'), step('e', 'EXIT'), wait],
        [
          ['t', 'e', 'yes'],
          ['t', 'wait'],
        ],
      ),
      'wait',
    ],
  ];
  for (const [name, g, expected] of cases) {
    it(`${name}: ${expected ?? 'none'}, the step the interpreter visits first when there is one`, () => {
      expect(openingWait(g)?.id).toBe(expected);
      if (expected) expect(interpreterFirst(g)).toBe(expected);
    });
  }
});
