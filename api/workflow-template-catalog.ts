/**
 * The built-in workflows (SPEC §14.5): each a workflow document in the export format under
 * examples/, keyed by its file name. Read once, from the sources or beside the compiled `dist/`.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { z } from 'zod';
import type { createWorkflow } from './contracts/workflows';

export type WorkflowDocumentInput = z.input<typeof createWorkflow.body>;
export interface WorkflowTemplate {
  key: string;
  document: WorkflowDocumentInput & { name: string; description: string };
}

/** The examples folder, both from TypeScript sources (api/) and from compiled `dist/api/`. */
function examplesFolder(): string {
  const here = path.join(__dirname, '..', 'examples');
  if (fs.existsSync(here)) return here;
  return path.join(__dirname, '..', '..', 'examples');
}

let catalog: WorkflowTemplate[] | undefined;

/** Every built-in workflow, by key. */
export function workflowTemplates(): WorkflowTemplate[] {
  catalog ??= fs
    .readdirSync(examplesFolder())
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => ({ key: file.slice(0, -'.json'.length), document: JSON.parse(fs.readFileSync(path.join(examplesFolder(), file), 'utf8')) }));
  return catalog;
}

/** The prefix of the names of the email templates a built-in workflow creates: placeholders to edit. */
export const PLACEHOLDER_PREFIX = '[Placeholder] ';
