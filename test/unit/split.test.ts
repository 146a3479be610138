import { describe, expect, it } from 'vitest';
import type { GraphStep } from '../../core/graph';
import { spliceStep, validateGraph, validateTransition } from '../../core/graph-rules';
import { pickBranch } from '../../temporal/interpreter/branch-choice';
import { parseStepConfig } from '../../core/step-configs';

const AB = {
  branches: [
    { name: 'a', weight: 1 },
    { name: 'b', weight: 3 },
  ],
};

describe('SPLIT config', () => {
  it('accepts 2 to 10 uniquely named, positively weighted branches', () => {
    expect(parseStepConfig('SPLIT', AB)).toEqual({ ok: true, config: AB });
    const ten = { branches: Array.from({ length: 10 }, (_, i) => ({ name: `v${i}`, weight: i + 1 })) };
    expect(parseStepConfig('SPLIT', ten).ok).toBe(true);
  });

  it.each([
    [{}, [{ path: 'config.branches', message: 'Invalid input: expected array, received undefined' }]],
    [{ branches: [{ name: 'a', weight: 1 }] }, [{ path: 'config.branches', message: 'a SPLIT has at least 2 branches' }]],
    [
      { branches: Array.from({ length: 11 }, (_, i) => ({ name: `v${i}`, weight: 1 })) },
      [{ path: 'config.branches', message: 'a SPLIT has at most 10 branches' }],
    ],
    [
      {
        branches: [
          { name: 'a', weight: 0 },
          { name: 'B c', weight: 1.5 },
        ],
      },
      [
        { path: 'config.branches.0.weight', message: 'Too small: expected number to be >0' },
        { path: 'config.branches.1.name', message: 'must be a slug: lower-case letters, digits, "_" and "-", at most 50 characters' },
        { path: 'config.branches.1.weight', message: 'Invalid input: expected int, received number' },
      ],
    ],
    [
      {
        branches: [
          { name: 'a', weight: 1 },
          { name: 'a', weight: 2 },
        ],
      },
      [{ path: 'config.branches.1.name', message: 'duplicate branch name "a"' }],
    ],
    [
      {
        branches: [
          { name: 'a', weight: 1, colour: 'red' },
          { name: 'b', weight: 1 },
        ],
      },
      [{ path: 'config.branches.0.colour', message: 'unknown field "colour"' }],
    ],
  ])('refuses %j', (config, issues) => {
    expect(parseStepConfig('SPLIT', config)).toEqual({ ok: false, issues });
  });
});

describe('pickBranch', () => {
  it('divides [0, 1) in proportion to the weights, in order', () => {
    expect(pickBranch(AB.branches, 0)).toBe('a');
    expect(pickBranch(AB.branches, 0.2499)).toBe('a');
    expect(pickBranch(AB.branches, 0.25)).toBe('b');
    expect(pickBranch(AB.branches, 0.9999999)).toBe('b');
  });
});

describe('graph rules of a SPLIT', () => {
  const steps: GraphStep[] = [
    { id: 'trigger', type: 'TRIGGER', name: 'trigger', config: {} },
    { id: 'split', type: 'SPLIT', name: 'split', config: AB },
    { id: 'x', type: 'UPDATE_CONTACT', name: 'x', config: {} },
    { id: 'y', type: 'UPDATE_CONTACT', name: 'y', config: {} },
  ];
  const t = (id: string, fromStepId: string, toStepId: string, branch: string | null) => ({ id, fromStepId, toStepId, branch });

  it('takes one transition per branch name of its config', () => {
    expect(validateGraph({ steps, transitions: [t('1', 'trigger', 'split', null), t('2', 'split', 'x', 'a'), t('3', 'split', 'y', 'b')] })).toBeNull();
  });

  it('refuses a branch its config does not name, an unbranched transition and a second transition per branch', () => {
    expect(validateTransition({ steps, transitions: [] }, t('', 'split', 'x', 'yes'))).toBe('A SPLIT step\'s branch must be "a" or "b"');
    expect(validateTransition({ steps, transitions: [] }, t('', 'split', 'x', null))).toBe(
      'A SPLIT step\'s transitions carry one of its branch names: "a", "b"',
    );
    expect(validateTransition({ steps, transitions: [t('1', 'split', 'x', 'a')] }, t('', 'split', 'y', 'a'))).toBe(
      'The SPLIT step already has a transition for branch "a"',
    );
  });

  it('cannot be spliced out once its branches lead somewhere', () => {
    const result = spliceStep({ steps, transitions: [t('1', 'trigger', 'split', null), t('2', 'split', 'x', 'a')] }, 'split');
    expect(result.ok).toBe(false);
  });
});
