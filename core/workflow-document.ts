/**
 * A workflow as one document (SPEC §5.3): steps named by keys the client chooses, transitions
 * between keys, and the email templates the steps use. `POST /workflows` and `PUT …/graph` take it,
 * `GET …/export` gives it, and the files under `examples/` are written in it.
 *
 * This module checks a document's graph without a database: step keys, each step's config, that
 * transitions name known keys, and the graph rules of §5.4, each problem with its path.
 */
import { z } from 'zod';
import { STEP_TYPES, type GraphTransition, type StepNode, type StepType } from './graph';
import { validateTransition } from './graph-rules';
import { parseStepConfig, type ConfigIssue } from './step-configs';

/** The key of the TRIGGER step, in every workflow. */
export const TRIGGER_KEY = 'trigger';

/** Step and template keys: short slugs, so they read well in files and in diagrams. */
export const documentKey = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'must be a slug: lower-case letters, digits, "_" and "-", at most 64 characters');

const position = z.strictObject({ x: z.number().finite(), y: z.number().finite() });

export const documentStep = z.strictObject({
  key: documentKey,
  type: z.enum(STEP_TYPES.filter((t) => t !== 'TRIGGER') as [Exclude<StepType, 'TRIGGER'>, ...Exclude<StepType, 'TRIGGER'>[]]),
  name: z.string().trim().min(1).max(200).optional(),
  config: z.record(z.string(), z.unknown()).default({}),
  position: position.nullable().optional(),
});

export const documentTransition = z.strictObject({
  from: documentKey,
  to: documentKey,
  branch: z.string().min(1).max(50).nullable().optional(),
});

/** The graph part of a document, as `PUT /workflows/:id/graph` takes it. */
export const graphDocument = {
  steps: z.array(documentStep).max(500),
  transitions: z.array(documentTransition).max(2000),
};

export type DocumentStep = z.infer<typeof documentStep>;
export type DocumentTransition = z.infer<typeof documentTransition>;

export interface GraphProblem {
  path: string;
  message: string;
}

/** A step whose config is valid, with `templateKey` (if any) still to be resolved to a template id. */
export interface CheckedStep {
  key: string;
  type: StepType;
  name?: string;
  config: Record<string, unknown>;
  position?: { x: number; y: number } | null;
  templateKey?: string;
}

// Stands in for a template referred to by key while the config is validated.
const PLACEHOLDER_TEMPLATE_ID = '00000000-0000-4000-8000-000000000000';

/**
 * Checks the steps and transitions of a document: unique keys (never `trigger`), every config
 * (a SEND_EMAIL names its template by `templateKey`, one of `templateKeys`, or by `templateId`),
 * transitions between known keys, and the graph rules. Answers every problem, with its path.
 */
export function checkGraphDocument(
  doc: { steps: DocumentStep[]; transitions: DocumentTransition[] },
  templateKeys: ReadonlySet<string>,
): { ok: true; steps: CheckedStep[] } | { ok: false; problems: GraphProblem[] } {
  const problems: GraphProblem[] = [];
  const steps: CheckedStep[] = [];
  const seen = new Set<string>([TRIGGER_KEY]);
  doc.steps.forEach((step, i) => {
    const at = `steps.${i}`;
    if (seen.has(step.key)) {
      problems.push({ path: `${at}.key`, message: step.key === TRIGGER_KEY ? '"trigger" is the TRIGGER step\'s key' : `duplicate key "${step.key}"` });
    }
    seen.add(step.key);
    const { templateKey, ...config } = step.config;
    if (templateKey !== undefined) {
      if (step.type !== 'SEND_EMAIL') problems.push({ path: `${at}.config.templateKey`, message: 'only a SEND_EMAIL step names a template' });
      else if (typeof templateKey !== 'string' || !templateKeys.has(templateKey)) {
        problems.push({ path: `${at}.config.templateKey`, message: 'names no template of the document' });
      } else if (config.templateId !== undefined) {
        problems.push({ path: `${at}.config.templateId`, message: 'give templateKey or templateId, not both' });
      }
    }
    const resolvable = typeof templateKey === 'string' && config.templateId === undefined;
    const parsed = parseStepConfig(step.type, resolvable ? { ...config, templateId: PLACEHOLDER_TEMPLATE_ID } : config);
    if (!parsed.ok) {
      problems.push(...parsed.issues.map((issue: ConfigIssue) => ({ path: `${at}.${issue.path}`, message: issue.message })));
      return;
    }
    const checked: CheckedStep = { key: step.key, type: step.type, name: step.name, config: parsed.config, position: step.position };
    if (resolvable) {
      delete checked.config.templateId;
      checked.templateKey = templateKey;
    }
    steps.push(checked);
  });

  const graphSteps: StepNode[] = [{ id: TRIGGER_KEY, type: 'TRIGGER', config: {} }, ...doc.steps.map((s) => ({ id: s.key, type: s.type, config: s.config }))];
  const accepted: GraphTransition[] = [];
  doc.transitions.forEach((t, i) => {
    const at = `transitions.${i}`;
    const unknown = (['from', 'to'] as const).filter((end) => !seen.has(t[end]));
    for (const end of unknown) problems.push({ path: `${at}.${end}`, message: `names no step of the document ("${t[end]}")` });
    if (unknown.length) return;
    const draft = { id: String(i), fromStepId: t.from, toStepId: t.to, branch: t.branch ?? null };
    const problem = validateTransition({ steps: graphSteps, transitions: accepted }, draft);
    if (problem) problems.push({ path: at, message: problem });
    else accepted.push(draft);
  });
  return problems.length ? { ok: false, problems } : { ok: true, steps };
}
