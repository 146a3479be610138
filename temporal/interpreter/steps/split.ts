/** SPLIT: follows one branch at random in proportion to the weights; the choice is the step's output. */
import { pickBranch } from '../branch-choice';
import type { StepHandler } from '../handler';

export const split: StepHandler<'SPLIT'> = async (step, visit, state) => {
  const { branches } = step.config;
  // Temporal seeds the workflow's Math.random per run, so a replay makes the same choice.
  const branch = pickBranch(branches, Math.random());
  state.record(visit, 'COMPLETED', { output: { branch } });
  return { branch };
};
