/** The rules a workflow graph obeys under edits (SPEC §5.4): adding a transition, splicing out a step. */
import { stepBranches, type GraphTransition, type StepNode } from './graph';

export interface EditableGraph {
  steps: StepNode[];
  transitions: GraphTransition[];
}

export interface TransitionDraft {
  fromStepId: string;
  toStepId: string;
  branch: string | null;
}

export type SpliceResult = { ok: true; removeTransitionIds: string[]; addTransitions: TransitionDraft[] } | { ok: false; message: string };

/** Why adding `candidate` to the graph would break a graph rule, or null when it may be added. */
export function validateTransition(graph: EditableGraph, candidate: TransitionDraft): string | null {
  const { fromStepId, toStepId, branch } = candidate;
  const from = graph.steps.find((s) => s.id === fromStepId);
  const to = graph.steps.find((s) => s.id === toStepId);
  if (!from) return `Step ${fromStepId} is not a step of this workflow`;
  if (!to) return `Step ${toStepId} is not a step of this workflow`;
  if (fromStepId === toStepId) return 'A step cannot transition to itself';
  if (to.type === 'TRIGGER') return 'Nothing may point at the TRIGGER step';
  if (from.type === 'EXIT') return 'Nothing may leave an EXIT step';

  const branches = stepBranches(from);
  if (branch !== null && !branches) {
    return `${article(from.type)} ${from.type} step's transitions take no branch; only CONDITION, WAIT_FOR_EVENT and SPLIT steps branch`;
  }
  if (branches && branch !== null && !branches.includes(branch)) {
    return `${article(from.type)} ${from.type} step's branch must be ${branches.map((b) => `"${b}"`).join(' or ')}`;
  }
  // A SPLIT always picks one of its named branches, so an unbranched transition would never be taken.
  if (from.type === 'SPLIT' && branch === null) {
    return `A SPLIT step's transitions carry one of its branch names: ${(branches ?? []).map((b) => `"${b}"`).join(', ')}`;
  }

  const outgoing = graph.transitions.filter((t) => t.fromStepId === fromStepId);
  if (outgoing.some((t) => t.toStepId === toStepId && t.branch === branch)) return 'This transition already exists';
  if (!branches && outgoing.length > 0) return `${article(from.type)} ${from.type} step has at most one outgoing transition`;
  if (branch !== null && outgoing.some((t) => t.branch === branch)) {
    return `The ${from.type} step already has a transition for branch "${branch}"`;
  }
  // Like WAIT_FOR_EVENT, a CONDITION may send both outcomes down one unbranched transition instead.
  if (branches && (branch === null ? outgoing.length > 0 : outgoing.some((t) => t.branch === null))) {
    const labels = branches.map((b) => `"${b}"`).join(' / ');
    return `${article(from.type)} ${from.type} step has either one unbranched transition (taken on both outcomes) or at most one per branch ${labels}`;
  }

  if (reachable(graph.transitions, toStepId, fromStepId)) return 'This transition would create a cycle';
  return null;
}

/** The first graph rule that a whole graph breaks, or null when it keeps them all. */
export function validateGraph(graph: EditableGraph): string | null {
  const accepted: GraphTransition[] = [];
  for (const transition of graph.transitions) {
    const problem = validateTransition({ steps: graph.steps, transitions: accepted }, transition);
    if (problem) return problem;
    accepted.push(transition);
  }
  return null;
}

/**
 * The transition changes that splice a step out of the graph: each transition that entered it
 * enters its successor instead, keeping its branch; a step without successor loses its incoming ones.
 */
export function spliceStep(graph: EditableGraph, stepId: string): SpliceResult {
  const step = graph.steps.find((s) => s.id === stepId);
  if (!step) return { ok: false, message: `Step ${stepId} is not a step of this workflow` };
  if (step.type === 'TRIGGER') return { ok: false, message: 'The TRIGGER step cannot be removed' };

  const incoming = graph.transitions.filter((t) => t.toStepId === stepId);
  const outgoing = graph.transitions.filter((t) => t.fromStepId === stepId);
  if (outgoing.some((t) => t.branch !== null)) {
    return {
      ok: false,
      message: `This ${step.type} step has branch transitions, so it has no single successor: delete it without splicing, or remove its branches first`,
    };
  }
  if (outgoing.length > 1) return { ok: false, message: 'This step has more than one successor' };

  const removeTransitionIds = [...incoming, ...outgoing].map((t) => t.id);
  const successor = outgoing[0]?.toStepId;
  const addTransitions: TransitionDraft[] =
    successor === undefined ? [] : incoming.map((t) => ({ fromStepId: t.fromStepId, toStepId: successor, branch: t.branch }));

  // Re-pointing keeps a valid graph valid; this guards against one that already broke a rule.
  const rest: EditableGraph = {
    steps: graph.steps.filter((s) => s.id !== stepId),
    transitions: graph.transitions.filter((t) => !removeTransitionIds.includes(t.id)),
  };
  for (const draft of addTransitions) {
    const problem = validateTransition(rest, draft);
    if (problem) return { ok: false, message: `Cannot splice this step out: ${problem}` };
    rest.transitions.push({ id: '', ...draft });
  }
  return { ok: true, removeTransitionIds, addTransitions };
}

function article(type: string): string {
  return /^[AEIOU]/.test(type) ? 'An' : 'A';
}

/** True when `target` can be reached from `start` by following transitions. */
function reachable(transitions: GraphTransition[], start: string, target: string): boolean {
  const seen = new Set<string>([start]);
  const queue = [start];
  while (queue.length > 0) {
    const current = queue.shift() as string;
    if (current === target) return true;
    for (const t of transitions) {
      if (t.fromStepId === current && !seen.has(t.toStepId)) {
        seen.add(t.toStepId);
        queue.push(t.toStepId);
      }
    }
  }
  return false;
}
