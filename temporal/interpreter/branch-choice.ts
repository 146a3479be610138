/**
 * SPLIT's weighted choice (SPEC §14.2). Interpreter code, and nothing else uses it: a change here can
 * move a replaying run to another branch, so it goes behind `patched()` (see ../README.md).
 */
import type { SplitConfig } from '../../core/step-configs';

/** The branch that `roll` (a number in [0, 1)) falls into when the weights divide [0, 1) in order. */
export function pickBranch(branches: SplitConfig['branches'], roll: number): string {
  const total = branches.reduce((sum, b) => sum + b.weight, 0);
  let point = roll * total;
  for (const branch of branches) {
    if (point < branch.weight) return branch.name;
    point -= branch.weight;
  }
  // Floating-point rounding can leave `point` a hair past the last weight.
  return branches[branches.length - 1]!.name;
}
