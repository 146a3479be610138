/** A workflow's graph as canvas nodes and edges. */
import { type Edge, MarkerType } from '@xyflow/react';
import type { Step, Transition, WorkflowWithGraph } from '../api';
import { positions } from './layout';
import { STEP_KINDS, summarize } from './step-kinds';
import type { StepNodeData, StepNodeType } from './StepNode';
import { NEXT } from './StepNode';
import { triggerLabel } from '../pages/WorkflowList';

export interface Names {
  templates: Map<string, string>;
  workflows: Map<string, string>;
}

/** Where transitions may leave a step: its branch names and/or '' (unbranched). */
export function outlets(step: Step): string[] {
  switch (step.type) {
    case 'EXIT':
      return [];
    case 'CONDITION':
      return ['yes', 'no'];
    case 'WAIT_FOR_EVENT':
      return ['', 'event', 'timeout'];
    case 'SPLIT':
      return step.config.branches.map((b) => b.name);
    default:
      return [''];
  }
}

export function nodesOf(workflow: WorkflowWithGraph, names: Names, extra: (step: Step) => Partial<StepNodeData> = () => ({})): StepNodeType[] {
  // Targets left to right in the order of their handles (yes before no, a SPLIT's branches in order):
  // dagre's initial ordering puts a step's last-added successor leftmost, so each step's transitions
  // go to it in reverse handle order.
  const outletsOf = new Map(workflow.steps.map((s) => [s.id, outlets(s)]));
  const rank = (t: Transition) => (outletsOf.get(t.fromStepId) ?? []).indexOf(t.branch ?? '');
  const at = positions(
    workflow.steps,
    [...workflow.transitions].sort((a, b) => rank(b) - rank(a)),
  );
  const trigger = triggerLabel(workflow);
  return workflow.steps.map((step) => ({
    id: step.id,
    type: 'step',
    position: at.get(step.id)!,
    data: {
      type: step.type,
      name: step.name,
      // The summary reads any config as a plain object (it only prints fields).
      summary: summarize({ type: step.type, config: step.config as Record<string, unknown> }, { ...names, trigger }),
      outlets: outlets(step),
      ...extra(step),
    },
    ariaLabel: `${STEP_KINDS[step.type].label} step ${step.name}`,
  }));
}

export function edgesOf(transitions: Transition[], highlighted: (t: Transition) => boolean = () => false): Edge[] {
  return transitions.map((t) => ({
    id: t.id,
    source: t.fromStepId,
    target: t.toStepId,
    sourceHandle: t.branch ?? NEXT,
    label: t.branch ?? undefined,
    markerEnd: { type: MarkerType.ArrowClosed },
    className: highlighted(t) ? 'path' : undefined,
    animated: highlighted(t),
    ariaLabel: `Connection${t.branch ? ` (${t.branch})` : ''}`,
  }));
}

/**
 * `built` with the size and selection each node had in `old`. The canvas hides a node that comes
 * without a measured size until it measures it again, and the edges wait for both their ends: a
 * refresh that brought new node objects would blank the graph for a frame, and one that landed
 * while the canvas was still measuring the previous objects could leave it unmeasured (and its
 * edges undrawn) for good, since the element's size, which the canvas watches, did not change.
 */
export function keepMeasured(old: StepNodeType[], built: StepNodeType[]): StepNodeType[] {
  const before = new Map(old.map((n) => [n.id, n]));
  return built.map((n) => ({ ...n, measured: before.get(n.id)?.measured, selected: n.selected || Boolean(before.get(n.id)?.selected) }));
}
