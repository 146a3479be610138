/** Automatic layout (dagre, top to bottom) for steps without a saved position. */
import dagre from '@dagrejs/dagre';

export const NODE_WIDTH = 240;
export const NODE_HEIGHT = 96;

interface Positioned {
  id: string;
  position: { x: number; y: number } | null;
}

/** Every step's position: its saved one, else where the automatic layout puts it. */
export function positions(steps: Positioned[], transitions: { fromStepId: string; toStepId: string }[]): Map<string, { x: number; y: number }> {
  const out = new Map<string, { x: number; y: number }>();
  for (const s of steps) if (s.position) out.set(s.id, s.position);
  if (out.size === steps.length) return out;
  const graph = new dagre.graphlib.Graph();
  graph.setGraph({ rankdir: 'TB', nodesep: 60, ranksep: 70 });
  graph.setDefaultEdgeLabel(() => ({}));
  for (const s of steps) graph.setNode(s.id, { width: NODE_WIDTH, height: NODE_HEIGHT });
  for (const t of transitions) graph.setEdge(t.fromStepId, t.toStepId);
  dagre.layout(graph);
  for (const s of steps) {
    if (out.has(s.id)) continue;
    const node = graph.node(s.id);
    // dagre places centres; the canvas places top-left corners.
    out.set(s.id, { x: Math.round(node.x - NODE_WIDTH / 2), y: Math.round(node.y - NODE_HEIGHT / 2) });
  }
  return out;
}
