/** A workflow graph as Mermaid flowchart text, each step labelled with where contacts are. */

export interface DiagramStep {
  id: string;
  key: string;
  type: string;
  name: string;
  active: number;
  entered: number;
}

export interface DiagramTransition {
  fromStepId: string;
  toStepId: string;
  branch: string | null;
}

/** Mermaid text: one node per step (name, type, active and visit counts), one edge per transition. */
export function mermaidDiagram(steps: DiagramStep[], transitions: DiagramTransition[]): string {
  const node = new Map(steps.map((s, i) => [s.id, `s${i}`]));
  const lines = ['flowchart TD'];
  for (const s of steps) {
    const label = `${escapeLabel(s.name)}<br/><small>${s.type} · ${s.active} active · ${s.entered} visits</small>`;
    lines.push(s.type === 'TRIGGER' ? `  ${node.get(s.id)}(["${label}"])` : `  ${node.get(s.id)}["${label}"]`);
  }
  for (const t of transitions) {
    const from = node.get(t.fromStepId);
    const to = node.get(t.toStepId);
    if (!from || !to) continue;
    lines.push(t.branch === null ? `  ${from} --> ${to}` : `  ${from} -->|${escapeLabel(t.branch)}| ${to}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Text safe inside a quoted Mermaid label: quotes, brackets, pipes and markup become entities. */
function escapeLabel(text: string): string {
  return text.replace(/[\r\n]+/g, ' ').replace(/["<>|#&[\]{}()]/g, (c) => `#${c.charCodeAt(0)};`);
}
