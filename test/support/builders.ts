/** Building workflows through the public API (with the typed client), step by step, for readable tests. */
import { expect } from 'vitest';
import type { StepType } from '../../core/graph';
import type { Api } from './harness';

export interface BuiltWorkflow {
  id: string;
  triggerId: string;
  steps: Record<string, string>;
}

type StepSpec = { key: string; type: string; name?: string; config?: unknown };
type EdgeSpec = [from: string, to: string, branch?: string];

/**
 * Creates a workflow (EVENT trigger on `eventName`), its steps and transitions, and enables it.
 * Edges name steps by key; `trigger` is the TRIGGER step.
 */
export async function buildWorkflow(
  api: Api,
  spec: { name?: string; eventName?: string; allowReentry?: boolean; manual?: boolean; steps: StepSpec[]; edges: EdgeSpec[]; enabled?: boolean },
): Promise<BuiltWorkflow> {
  const trellis = api.client;
  const created = await trellis.createWorkflow({
    body: { name: spec.name ?? 'test workflow', eventName: spec.eventName ?? 'signed_up', allowReentry: spec.allowReentry ?? false },
  });
  const id = created.id;
  const triggerId = created.steps.find((s) => s.type === 'TRIGGER')!.id;
  if (spec.manual) await trellis.updateWorkflow({ params: { id }, body: { triggerType: 'MANUAL', triggerConfig: {} } });
  const steps: Record<string, string> = { trigger: triggerId };
  for (const s of spec.steps) {
    const step = await trellis.createStep({ params: { id }, body: { type: s.type as StepType, name: s.name ?? s.key, config: s.config ?? {} } });
    steps[s.key] = step.id;
  }
  for (const [from, to, branch] of spec.edges) {
    await trellis.createTransition({ params: { id }, body: { fromStepId: steps[from]!, toStepId: steps[to]!, ...(branch ? { branch } : {}) } });
  }
  const enabled = spec.enabled !== false ? await trellis.updateWorkflow({ params: { id }, body: { enabled: true } }) : undefined;
  expect(enabled?.enabled ?? true).toBe(true);
  return { id, triggerId, steps };
}

/** Creates a template and returns its id. */
export async function createTemplate(api: Api, t: { name?: string; subject: string; body: string; text?: string; type?: string }): Promise<string> {
  const template = await api.client.createTemplate({
    body: { name: t.name ?? t.subject, ...t, type: t.type as 'MARKETING' | 'TRANSACTIONAL' | 'HEADLESS' | undefined },
  });
  return template.id;
}
