/**
 * Workflow templates (SPEC §14.5): list the built-in workflows and create one, disabled, with the
 * email templates it needs marked as placeholders to edit.
 */
import type { z } from 'zod';
import { writeGraph } from '../../db/workflow-document';
import { insertWorkflow } from '../../db/workflows';
import * as api from '../contracts/workflow-templates';
import { createWorkflow } from '../contracts/workflows';
import type { ApiDeps } from '../deps';
import { notFound } from '../errors';
import { route, type Route } from '../routing';
import { parse } from '../validate';
import { PLACEHOLDER_PREFIX, workflowTemplates } from '../workflow-template-catalog';
import { resolveDocument } from '../workflow-document-input';
import { workflowWithGraph } from '../workflow-view';

export function workflowTemplateRoutes({ database }: ApiDeps): Route[] {
  const { db } = database;
  return [
    route(api.listWorkflowTemplates, async () => ({
      data: workflowTemplates().map((t) => ({ key: t.key, name: t.document.name, description: t.document.description })),
    })),

    route(api.createWorkflowFromTemplate, async ({ project, body }) => {
      const template = workflowTemplates().find((t) => t.key === body.template);
      if (!template) throw notFound(`workflow template "${body.template}"`);
      const doc: z.output<typeof createWorkflow.body> = parse(createWorkflow.body, template.document, '');
      const triggerType = doc.triggerType ?? 'EVENT';
      const triggerConfig = doc.triggerConfig ?? {};
      return db.transaction(async (tx) => {
        const graph = await resolveDocument(tx, project.id, {
          steps: doc.steps ?? [],
          transitions: doc.transitions ?? [],
          templates: doc.templates?.map((t) => ({ ...t, name: `${PLACEHOLDER_PREFIX}${t.name}`.slice(0, 200) })),
        });
        const wf = await insertWorkflow(tx, {
          projectId: project.id,
          name: body.name ?? doc.name,
          description: doc.description ?? null,
          triggerType,
          triggerConfig,
          triggerEvent: triggerType === 'EVENT' ? String(triggerConfig.eventName) : null,
          allowReentry: doc.allowReentry ?? false,
          exitOn: doc.exitOn ?? null,
        });
        await writeGraph(tx, wf.id, graph);
        return workflowWithGraph(tx, wf.id);
      });
    }),
  ];
}
