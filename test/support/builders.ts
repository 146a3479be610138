/** Building workflows through the public API, step by step, for readable tests. */
import { expect } from 'vitest';
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
  const created = await api.post('/workflows', {
    name: spec.name ?? 'test workflow',
    eventName: spec.eventName ?? 'signed_up',
    allowReentry: spec.allowReentry ?? false,
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const id = created.body.id as string;
  const triggerId = (created.body.steps as { id: string; type: string }[]).find((s) => s.type === 'TRIGGER')!.id;
  if (spec.manual) {
    const r = await api.patch(`/workflows/${id}`, { triggerType: 'MANUAL', triggerConfig: {} });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
  }
  const steps: Record<string, string> = { trigger: triggerId };
  for (const s of spec.steps) {
    const r = await api.post(`/workflows/${id}/steps`, { type: s.type, name: s.name ?? s.key, config: s.config ?? {} });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    steps[s.key] = r.body.id;
  }
  for (const [from, to, branch] of spec.edges) {
    const r = await api.post(`/workflows/${id}/transitions`, { fromStepId: steps[from], toStepId: steps[to], ...(branch ? { branch } : {}) });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
  }
  if (spec.enabled !== false) {
    const r = await api.patch(`/workflows/${id}`, { enabled: true });
    expect(r.status).toBe(200);
  }
  return { id, triggerId, steps };
}

/** Creates a template and returns its id. */
export async function createTemplate(api: Api, t: { name?: string; subject: string; body: string; text?: string; type?: string }): Promise<string> {
  const r = await api.post('/templates', { name: t.name ?? t.subject, ...t });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body.id;
}
