/**
 * How the interpreter walks a graph snapshot. Workflow code only, and no other layer uses it: a change
 * here changes the path a replaying run takes, so it goes behind `patched()` (see ../README.md).
 */
import type { GraphSnapshot, GraphStep } from '../../core/graph';

/** The TRIGGER step of a graph. */
export function triggerStep(graph: GraphSnapshot): GraphStep | undefined {
  return graph.steps.find((s) => s.type === 'TRIGGER');
}

/**
 * The step that follows `stepId` when the step ended on `branch`: the transition with that branch,
 * else the one unbranched transition; undefined when there is none (the execution completes).
 */
export function nextStepId(graph: GraphSnapshot, stepId: string, branch?: string): string | undefined {
  const out = graph.transitions.filter((t) => t.fromStepId === stepId);
  if (branch !== undefined) {
    const match = out.find((t) => t.branch === branch);
    if (match) return match.toStepId;
  }
  return out.find((t) => t.branch === null)?.toStepId;
}
