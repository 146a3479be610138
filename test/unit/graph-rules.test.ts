import { describe, it, expect } from 'vitest';
import type { GraphTransition, StepNode, StepType } from '../../core/graph';
import { spliceStep, validateGraph, validateTransition, type EditableGraph } from '../../core/graph-rules';

const step = (id: string, type: StepType): StepNode => ({ id, type, config: {} });

const STEPS: StepNode[] = [
  step('trigger', 'TRIGGER'),
  step('email', 'SEND_EMAIL'),
  step('email2', 'SEND_EMAIL'),
  step('delay', 'DELAY'),
  step('wait', 'WAIT_FOR_EVENT'),
  step('cond', 'CONDITION'),
  step('hook', 'WEBHOOK'),
  step('update', 'UPDATE_CONTACT'),
  step('exit', 'EXIT'),
  step('exit2', 'EXIT'),
];

type Edge = [from: string, to: string, branch?: string];

const graph = (...edges: Edge[]): EditableGraph => ({
  steps: STEPS,
  transitions: edges.map(
    ([fromStepId, toStepId, branch], i): GraphTransition => ({
      id: `t${i + 1}`,
      fromStepId,
      toStepId,
      branch: branch ?? null,
    }),
  ),
});

const add = (g: EditableGraph, fromStepId: string, toStepId: string, branch: string | null = null): string | null =>
  validateTransition(g, { fromStepId, toStepId, branch });

describe('validateTransition', () => {
  describe('accepts', () => {
    it.each([
      ['the first edge from the trigger', [], 'trigger', 'email', null],
      [
        'a chain of every non-branching type',
        [
          ['trigger', 'email'],
          ['email', 'delay'],
          ['delay', 'hook'],
          ['hook', 'update'],
        ],
        'update',
        'exit',
        null,
      ],
      [
        'two steps entering one step',
        [
          ['trigger', 'cond'],
          ['cond', 'email', 'yes'],
          ['email', 'exit'],
        ],
        'cond',
        'exit',
        'no',
      ],
      ['a CONDITION "yes"', [], 'cond', 'email', 'yes'],
      ['a CONDITION "no" beside a "yes"', [['cond', 'email', 'yes']], 'cond', 'email2', 'no'],
      ['both CONDITION branches to one step', [['cond', 'email', 'yes']], 'cond', 'email', 'no'],
      ["a CONDITION's one unbranched transition", [], 'cond', 'email', null],
      ['a WAIT_FOR_EVENT "event"', [], 'wait', 'email', 'event'],
      ['a WAIT_FOR_EVENT "timeout" beside an "event"', [['wait', 'email', 'event']], 'wait', 'exit', 'timeout'],
      ["a WAIT_FOR_EVENT's one unbranched transition", [], 'wait', 'email', null],
      ['an edge into an EXIT step', [], 'email', 'exit', null],
      [
        'a diamond (no cycle)',
        [
          ['trigger', 'cond'],
          ['cond', 'email', 'yes'],
          ['cond', 'email2', 'no'],
          ['email', 'delay'],
        ],
        'email2',
        'delay',
        null,
      ],
      [
        'an edge to an upstream step that does not lead back',
        [
          ['trigger', 'email'],
          ['email', 'delay'],
        ],
        'hook',
        'email',
        null,
      ],
    ] as [string, Edge[], string, string, string | null][])('%s', (_label, edges, from, to, branch) => {
      expect(add(graph(...edges), from, to, branch)).toBeNull();
    });
  });

  describe('refuses', () => {
    it.each([
      ['an unknown source step', [], 'ghost', 'email', null, 'Step ghost is not a step of this workflow'],
      ['an unknown target step', [], 'email', 'ghost', null, 'Step ghost is not a step of this workflow'],
      ['a self-loop', [], 'email', 'email', null, 'A step cannot transition to itself'],
      ['a self-loop on a CONDITION branch', [], 'cond', 'cond', 'yes', 'A step cannot transition to itself'],
      ['an edge into the TRIGGER', [], 'email', 'trigger', null, 'Nothing may point at the TRIGGER step'],
      ['a branch into the TRIGGER', [], 'cond', 'trigger', 'yes', 'Nothing may point at the TRIGGER step'],
      ['an edge out of an EXIT step', [], 'exit', 'email', null, 'Nothing may leave an EXIT step'],
      ['an edge from one EXIT to another', [], 'exit', 'exit2', null, 'Nothing may leave an EXIT step'],
      [
        'a branch on a SEND_EMAIL step',
        [],
        'email',
        'delay',
        'yes',
        "A SEND_EMAIL step's transitions take no branch; only CONDITION, WAIT_FOR_EVENT and SPLIT steps branch",
      ],
      [
        'a branch on the TRIGGER',
        [],
        'trigger',
        'email',
        'event',
        "A TRIGGER step's transitions take no branch; only CONDITION, WAIT_FOR_EVENT and SPLIT steps branch",
      ],
      ['an unknown CONDITION branch', [], 'cond', 'email', 'maybe', 'A CONDITION step\'s branch must be "yes" or "no"'],
      ['a WAIT_FOR_EVENT branch on a CONDITION', [], 'cond', 'email', 'event', 'A CONDITION step\'s branch must be "yes" or "no"'],
      ['a CONDITION branch on a WAIT_FOR_EVENT', [], 'wait', 'email', 'yes', 'A WAIT_FOR_EVENT step\'s branch must be "event" or "timeout"'],
      ['an empty branch', [], 'wait', 'email', '', 'A WAIT_FOR_EVENT step\'s branch must be "event" or "timeout"'],
      ['a duplicate transition', [['email', 'delay']], 'email', 'delay', null, 'This transition already exists'],
      ['a duplicate branch transition', [['cond', 'email', 'yes']], 'cond', 'email', 'yes', 'This transition already exists'],
      ['a second edge out of the TRIGGER', [['trigger', 'email']], 'trigger', 'delay', null, 'A TRIGGER step has at most one outgoing transition'],
      ['a second edge out of a SEND_EMAIL', [['email', 'delay']], 'email', 'hook', null, 'A SEND_EMAIL step has at most one outgoing transition'],
      ['a second edge out of a DELAY', [['delay', 'email']], 'delay', 'hook', null, 'A DELAY step has at most one outgoing transition'],
      ['a second edge out of a WEBHOOK', [['hook', 'email']], 'hook', 'exit', null, 'A WEBHOOK step has at most one outgoing transition'],
      ['a second edge out of an UPDATE_CONTACT', [['update', 'email']], 'update', 'exit', null, 'An UPDATE_CONTACT step has at most one outgoing transition'],
      ['a second "yes"', [['cond', 'email', 'yes']], 'cond', 'delay', 'yes', 'The CONDITION step already has a transition for branch "yes"'],
      ['a second "no"', [['cond', 'email', 'no']], 'cond', 'delay', 'no', 'The CONDITION step already has a transition for branch "no"'],
      ['a second "event"', [['wait', 'email', 'event']], 'wait', 'delay', 'event', 'The WAIT_FOR_EVENT step already has a transition for branch "event"'],
      [
        'a second "timeout"',
        [['wait', 'email', 'timeout']],
        'wait',
        'delay',
        'timeout',
        'The WAIT_FOR_EVENT step already has a transition for branch "timeout"',
      ],
      [
        'an unbranched WAIT_FOR_EVENT edge beside a branch',
        [['wait', 'email', 'event']],
        'wait',
        'delay',
        null,
        'A WAIT_FOR_EVENT step has either one unbranched transition (taken on both outcomes) or at most one per branch "event" / "timeout"',
      ],
      [
        'a WAIT_FOR_EVENT branch beside an unbranched edge',
        [['wait', 'email']],
        'wait',
        'delay',
        'timeout',
        'A WAIT_FOR_EVENT step has either one unbranched transition (taken on both outcomes) or at most one per branch "event" / "timeout"',
      ],
      [
        'a second unbranched WAIT_FOR_EVENT edge',
        [['wait', 'email']],
        'wait',
        'delay',
        null,
        'A WAIT_FOR_EVENT step has either one unbranched transition (taken on both outcomes) or at most one per branch "event" / "timeout"',
      ],
      [
        'an unbranched CONDITION edge beside a branch',
        [['cond', 'email', 'yes']],
        'cond',
        'delay',
        null,
        'A CONDITION step has either one unbranched transition (taken on both outcomes) or at most one per branch "yes" / "no"',
      ],
      [
        'a CONDITION branch beside an unbranched edge',
        [['cond', 'email']],
        'cond',
        'delay',
        'no',
        'A CONDITION step has either one unbranched transition (taken on both outcomes) or at most one per branch "yes" / "no"',
      ],
      ['a two-step cycle', [['email', 'delay']], 'delay', 'email', null, 'This transition would create a cycle'],
      [
        'a long cycle',
        [
          ['email', 'delay'],
          ['delay', 'hook'],
          ['hook', 'update'],
        ],
        'update',
        'email',
        null,
        'This transition would create a cycle',
      ],
      [
        'a cycle through a branch',
        [
          ['cond', 'email', 'no'],
          ['email', 'delay'],
        ],
        'delay',
        'cond',
        null,
        'This transition would create a cycle',
      ],
      ['a cycle closed by a branch', [['email', 'wait']], 'wait', 'email', 'timeout', 'This transition would create a cycle'],
    ] as [string, Edge[], string, string, string | null, string][])('%s', (_label, edges, from, to, branch, message) => {
      expect(add(graph(...edges), from, to, branch)).toBe(message);
    });
  });
});

describe('validateGraph', () => {
  it('accepts a valid graph', () => {
    const g = graph(
      ['trigger', 'wait'],
      ['wait', 'cond', 'event'],
      ['wait', 'exit', 'timeout'],
      ['cond', 'email', 'yes'],
      ['cond', 'update', 'no'],
      ['email', 'delay'],
      ['delay', 'hook'],
      ['update', 'hook'],
    );
    expect(validateGraph(g)).toBeNull();
    expect(validateGraph(graph())).toBeNull();
  });

  it('names the first rule a graph breaks', () => {
    expect(validateGraph(graph(['trigger', 'email'], ['email', 'delay'], ['delay', 'email']))).toBe('This transition would create a cycle');
    expect(validateGraph(graph(['trigger', 'email'], ['trigger', 'delay']))).toBe('A TRIGGER step has at most one outgoing transition');
    expect(validateGraph(graph(['email', 'trigger']))).toBe('Nothing may point at the TRIGGER step');
  });
});

describe('spliceStep', () => {
  it('re-points every incoming transition at the successor, keeping its branch', () => {
    const g = graph(
      ['trigger', 'cond'],
      ['cond', 'email', 'yes'],
      ['cond', 'wait', 'no'],
      ['wait', 'email', 'timeout'],
      ['wait', 'exit', 'event'],
      ['email', 'delay'],
    );
    expect(spliceStep(g, 'email')).toEqual({
      ok: true,
      removeTransitionIds: ['t2', 't4', 't6'],
      addTransitions: [
        { fromStepId: 'cond', toStepId: 'delay', branch: 'yes' },
        { fromStepId: 'wait', toStepId: 'delay', branch: 'timeout' },
      ],
    });
  });

  it('splices a step in the middle of a chain', () => {
    const g = graph(['trigger', 'email'], ['email', 'delay'], ['delay', 'hook']);
    expect(spliceStep(g, 'delay')).toEqual({
      ok: true,
      removeTransitionIds: ['t2', 't3'],
      addTransitions: [{ fromStepId: 'email', toStepId: 'hook', branch: null }],
    });
  });

  it('removes a step without successor with its incoming transitions', () => {
    const g = graph(['trigger', 'cond'], ['cond', 'exit', 'yes'], ['cond', 'email', 'no'], ['email', 'exit']);
    expect(spliceStep(g, 'exit')).toEqual({ ok: true, removeTransitionIds: ['t2', 't4'], addTransitions: [] });
  });

  it('splices a step with no transitions at all', () => {
    expect(spliceStep(graph(['trigger', 'email']), 'hook')).toEqual({ ok: true, removeTransitionIds: [], addTransitions: [] });
  });

  it('splices a step with a successor but no predecessor', () => {
    expect(spliceStep(graph(['email', 'delay']), 'email')).toEqual({ ok: true, removeTransitionIds: ['t1'], addTransitions: [] });
  });

  it('splices a WAIT_FOR_EVENT with one unbranched transition', () => {
    const g = graph(['trigger', 'wait'], ['wait', 'email']);
    expect(spliceStep(g, 'wait')).toEqual({
      ok: true,
      removeTransitionIds: ['t1', 't2'],
      addTransitions: [{ fromStepId: 'trigger', toStepId: 'email', branch: null }],
    });
  });

  it('splices a CONDITION with one unbranched transition', () => {
    const g = graph(['trigger', 'cond'], ['cond', 'email']);
    expect(spliceStep(g, 'cond')).toEqual({
      ok: true,
      removeTransitionIds: ['t1', 't2'],
      addTransitions: [{ fromStepId: 'trigger', toStepId: 'email', branch: null }],
    });
  });

  it('splices a CONDITION or WAIT_FOR_EVENT without outgoing transitions', () => {
    expect(spliceStep(graph(['trigger', 'cond']), 'cond')).toEqual({ ok: true, removeTransitionIds: ['t1'], addTransitions: [] });
    expect(spliceStep(graph(['trigger', 'wait']), 'wait')).toEqual({ ok: true, removeTransitionIds: ['t1'], addTransitions: [] });
  });

  it('splices a step entered by a branch, which keeps the branch', () => {
    const g = graph(['wait', 'hook', 'event'], ['hook', 'exit']);
    expect(spliceStep(g, 'hook')).toEqual({
      ok: true,
      removeTransitionIds: ['t1', 't2'],
      addTransitions: [{ fromStepId: 'wait', toStepId: 'exit', branch: 'event' }],
    });
  });

  it('refuses the TRIGGER', () => {
    expect(spliceStep(graph(['trigger', 'email']), 'trigger')).toEqual({ ok: false, message: 'The TRIGGER step cannot be removed' });
  });

  it('refuses an unknown step', () => {
    expect(spliceStep(graph(), 'ghost')).toEqual({ ok: false, message: 'Step ghost is not a step of this workflow' });
  });

  it.each([
    [
      'CONDITION',
      'cond',
      [
        ['trigger', 'cond'],
        ['cond', 'email', 'yes'],
      ],
    ],
    [
      'CONDITION',
      'cond',
      [
        ['cond', 'email', 'yes'],
        ['cond', 'delay', 'no'],
      ],
    ],
    [
      'WAIT_FOR_EVENT',
      'wait',
      [
        ['trigger', 'wait'],
        ['wait', 'email', 'timeout'],
      ],
    ],
    [
      'WAIT_FOR_EVENT',
      'wait',
      [
        ['wait', 'email', 'event'],
        ['wait', 'delay', 'timeout'],
      ],
    ],
  ] as [string, string, Edge[]][])('refuses a %s with branch transitions', (type, id, edges) => {
    expect(spliceStep(graph(...edges), id)).toEqual({
      ok: false,
      message: `This ${type} step has branch transitions, so it has no single successor: delete it without splicing, or remove its branches first`,
    });
  });

  it('refuses a step with more than one outgoing transition', () => {
    const broken = graph(['trigger', 'email'], ['email', 'delay'], ['email', 'hook']);
    expect(spliceStep(broken, 'email')).toEqual({ ok: false, message: 'This step has more than one successor' });
  });

  it('refuses when re-pointing would break a rule of an already broken graph', () => {
    // Two unbranched edges out of `wait` cannot both be re-pointed at the same successor.
    const broken = graph(['wait', 'email'], ['wait', 'hook'], ['email', 'delay'], ['hook', 'delay']);
    expect(spliceStep(broken, 'email')).toEqual({
      ok: false,
      message:
        'Cannot splice this step out: A WAIT_FOR_EVENT step has either one unbranched transition (taken on both outcomes) or at most one per branch "event" / "timeout"',
    });
  });
});
