/** Writing a workflow document's graph into a workflow, and reading a workflow back as a document. */
import { isDeepStrictEqual } from 'node:util';
import { asc, eq, inArray, sql } from 'drizzle-orm';
import type { StepType } from '../core/graph';
import { TRIGGER_KEY, type CheckedStep, type DocumentTransition } from '../core/workflow-document';
import type { Tx } from './client';
import { steps, templates, transitions, workflows } from './schema';

type StepRow = typeof steps.$inferSelect;
type TemplateRow = typeof templates.$inferSelect;

/** A step ready to be written: its template resolved to an id of the project. */
export type ResolvedStep = Omit<CheckedStep, 'templateKey'>;

/** The parts of a graph that executions run on (keys, types, configs, transitions), for comparison. */
function structure(stepRows: { key: string; type: string; config: unknown }[], edges: { from: string; to: string; branch: string | null }[]) {
  const byKey = (a: { key: string }, b: { key: string }) => a.key.localeCompare(b.key);
  const edgeKey = (e: { from: string; to: string; branch: string | null }) => `${e.from}\u0000${e.to}\u0000${e.branch ?? ''}`;
  return {
    steps: stepRows.map((s) => ({ key: s.key, type: s.type, config: s.config })).sort(byKey),
    transitions: edges.map(edgeKey).sort(),
  };
}

/** The step rows of a workflow, oldest first (the TRIGGER first). */
export function stepRowsOf(tx: Tx, workflowId: string): Promise<StepRow[]> {
  return tx.select().from(steps).where(eq(steps.workflowId, workflowId)).orderBy(asc(steps.createdAt), asc(steps.id));
}

/**
 * Whether writing `next` over the workflow's graph changes what executions run on (a structural
 * edit, SPEC §9) rather than only names and positions.
 */
export async function isStructuralChange(tx: Tx, workflowId: string, next: { steps: ResolvedStep[]; transitions: DocumentTransition[] }): Promise<boolean> {
  const current = await stepRowsOf(tx, workflowId);
  const keyOf = new Map(current.map((s) => [s.id, s.key]));
  const edges = await tx.select().from(transitions).where(eq(transitions.workflowId, workflowId));
  const before = structure(
    current.filter((s) => s.type !== 'TRIGGER'),
    edges.map((t) => ({ from: keyOf.get(t.fromStepId)!, to: keyOf.get(t.toStepId)!, branch: t.branch })),
  );
  const after = structure(
    next.steps,
    next.transitions.map((t) => ({ from: t.from, to: t.to, branch: t.branch ?? null })),
  );
  return !isDeepStrictEqual(before, after);
}

/**
 * Makes the workflow's graph the document's: a step whose key (and type) it still has keeps its
 * id, the others are created or deleted, and the transitions are replaced. The TRIGGER is kept.
 */
export async function writeGraph(tx: Tx, workflowId: string, next: { steps: ResolvedStep[]; transitions: DocumentTransition[] }): Promise<void> {
  const current = await stepRowsOf(tx, workflowId);
  const kept = new Map(current.map((s) => [s.key, s]));
  const wanted = new Map(next.steps.map((s) => [s.key, s]));
  const gone = current.filter((s) => s.type !== 'TRIGGER' && (wanted.get(s.key)?.type ?? null) !== s.type);
  await tx.delete(transitions).where(eq(transitions.workflowId, workflowId));
  if (gone.length)
    await tx.delete(steps).where(
      inArray(
        steps.id,
        gone.map((s) => s.id),
      ),
    );
  const ids = new Map<string, string>([[TRIGGER_KEY, kept.get(TRIGGER_KEY)!.id]]);
  for (const step of next.steps) {
    const values = { name: step.name ?? defaultStepName(step.type), config: step.config, position: step.position ?? null };
    const existing = kept.get(step.key);
    if (existing && existing.type === step.type) {
      await tx.update(steps).set(values).where(eq(steps.id, existing.id));
      ids.set(step.key, existing.id);
    } else {
      // clock_timestamp(): steps keep the document's order (now() is the same for the whole transaction).
      const [row] = await tx
        .insert(steps)
        .values({ workflowId, key: step.key, type: step.type, ...values, createdAt: sql`clock_timestamp()` })
        .returning({ id: steps.id });
      ids.set(step.key, row!.id);
    }
  }
  if (next.transitions.length) {
    await tx.insert(transitions).values(
      next.transitions.map((t) => ({
        workflowId,
        fromStepId: ids.get(t.from)!,
        toStepId: ids.get(t.to)!,
        branch: t.branch ?? null,
        createdAt: sql`clock_timestamp()`,
      })),
    );
  }
}

/** The name a step gets when none is given. */
export function defaultStepName(type: StepType): string {
  const words = type.toLowerCase().replace(/_/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** A key for a step added on its own (`send_email_2`): its type and the first free number. */
export async function newStepKey(tx: Tx, workflowId: string, type: StepType): Promise<string> {
  if (type === 'TRIGGER') return TRIGGER_KEY;
  const taken = new Set((await tx.select({ key: steps.key }).from(steps).where(eq(steps.workflowId, workflowId))).map((s) => s.key));
  const base = type.toLowerCase();
  for (let n = 1; ; n++) if (!taken.has(`${base}_${n}`)) return `${base}_${n}`;
}

/** Template content as a document embeds it. */
export type DocumentTemplate = Pick<TemplateRow, 'name' | 'subject' | 'body' | 'text' | 'from' | 'fromName' | 'replyTo' | 'type'> & { key: string };

/** The workflow as a document (SPEC §5.3's export), with the templates its steps use embedded. */
export async function exportWorkflow(tx: Tx, workflowId: string) {
  const [wf] = await tx.select().from(workflows).where(eq(workflows.id, workflowId));
  const stepRows = await stepRowsOf(tx, workflowId);
  const keyOf = new Map(stepRows.map((s) => [s.id, s.key]));
  const edges = await tx.select().from(transitions).where(eq(transitions.workflowId, workflowId)).orderBy(asc(transitions.createdAt), asc(transitions.id));
  const templateIds = [...new Set(stepRows.map((s) => s.config.templateId).filter((id): id is string => typeof id === 'string'))];
  const rows = templateIds.length ? await tx.select().from(templates).where(inArray(templates.id, templateIds)) : [];
  // In the order the steps first use them.
  const used = templateIds.map((id) => rows.find((t) => t.id === id)).filter((t): t is TemplateRow => t !== undefined);
  const templateKeys = new Map<string, string>();
  const embedded: DocumentTemplate[] = used.map((t) => {
    const key = uniqueSlug(t.name, new Set(templateKeys.values()));
    templateKeys.set(t.id, key);
    return { key, name: t.name, subject: t.subject, body: t.body, text: t.text, from: t.from, fromName: t.fromName, replyTo: t.replyTo, type: t.type };
  });
  return {
    name: wf!.name,
    description: wf!.description,
    triggerType: wf!.triggerType,
    triggerConfig: wf!.triggerConfig,
    allowReentry: wf!.allowReentry,
    exitOn: wf!.exitOn ?? null,
    templates: embedded,
    steps: stepRows
      .filter((s) => s.type !== 'TRIGGER')
      .map((s) => {
        const { templateId, ...config } = s.config;
        const templateKey = typeof templateId === 'string' ? templateKeys.get(templateId) : undefined;
        return { key: s.key, type: s.type, name: s.name, config: templateKey ? { templateKey, ...config } : s.config, position: s.position ?? null };
      }),
    transitions: edges.map((t) => ({ from: keyOf.get(t.fromStepId)!, to: keyOf.get(t.toStepId)!, branch: t.branch })),
  };
}

/** A slug of `text` that `taken` does not hold (`welcome-email`, `welcome-email-2`, …). */
function uniqueSlug(text: string, taken: Set<string>): string {
  const base =
    text
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 56) || 'template';
  if (!taken.has(base)) return base;
  for (let n = 2; ; n++) if (!taken.has(`${base}-${n}`)) return `${base}-${n}`;
}
