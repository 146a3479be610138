/**
 * /templates (SPEC §5.2): edits are cosmetic; deleting one a current graph uses is refused.
 * `POST /templates/:id/preview` renders a template as SEND_EMAIL would (footer, text part, headers;
 * no tracking) for a contact or for given data, without sending or recording anything.
 */
import { and, desc, eq, ilike, sql } from 'drizzle-orm';
import { emailLinks } from '../../email-links/tokens';
import { buildVariables, TemplateError } from '../../core/render';
import { templateSyntaxIssues } from '../template-input';
import { contacts, templates } from '../../db/schema';
import { likePattern } from '../../db/search';
import { workflowsUsingTemplate } from '../../db/templates';
import * as api from '../contracts/templates';
import type { ApiDeps } from '../deps';
import { badRequest, conflict, notFound } from '../errors';
import { listPage } from '../paging';
import { route, type Route } from '../routing';
import { templateOut } from '../serialize';

/** Refuses a template whose subject, body or text does not parse, naming line and column. */
function checkSyntax(body: { subject?: string; body?: string; text?: string | null }): void {
  const details = templateSyntaxIssues(body);
  if (details.length) throw badRequest(`template does not parse: ${details.map((d) => `${d.path}: ${d.message}`).join('; ')}`, details);
}

export function templateRoutes({ database, config, renderer }: ApiDeps): Route[] {
  const { db } = database;
  return [
    route(api.createTemplate, async ({ project, body }) => {
      checkSyntax(body);
      const [row] = await db
        .insert(templates)
        .values({ ...body, type: body.type ?? 'MARKETING', projectId: project.id })
        .returning();
      return templateOut(row!);
    }),

    route(api.listTemplates, async ({ project, query: q }) => {
      const where = and(eq(templates.projectId, project.id), q.search ? ilike(templates.name, likePattern(q.search)) : undefined);
      return listPage(db, templates, where, [desc(templates.createdAt), desc(templates.id)], q, templateOut);
    }),

    route(api.getTemplate, async ({ project, params: { id } }) => {
      const [row] = await db
        .select()
        .from(templates)
        .where(and(eq(templates.id, id), eq(templates.projectId, project.id)));
      if (!row) throw notFound('template');
      return templateOut(row);
    }),

    route(api.previewTemplate, async ({ project, params: { id }, body }) => {
      if ((body.contactId === undefined) === (body.data === undefined)) {
        throw badRequest('give either contactId or data', [{ path: 'contactId', message: 'give either contactId or data' }]);
      }
      const [template] = await db
        .select()
        .from(templates)
        .where(and(eq(templates.id, id), eq(templates.projectId, project.id)));
      if (!template) throw notFound('template');
      let contact: { id: string; email: string; data: Record<string, unknown> };
      let links: { unsubscribeUrl: string; subscribeUrl: string };
      if (body.contactId !== undefined) {
        const [row] = await db
          .select()
          .from(contacts)
          .where(and(eq(contacts.id, body.contactId), eq(contacts.projectId, project.id)));
        if (!row) throw notFound('contact');
        contact = row;
        const signer = await emailLinks(database, config.publicUrl);
        links = { unsubscribeUrl: signer.unsubscribeUrl(row.id), subscribeUrl: signer.subscribeUrl(row.id) };
      } else {
        // No contact: `email` comes from the data when it holds one; the links are placeholders (404).
        const data = body.data!;
        contact = { id: '', email: typeof data.email === 'string' ? data.email : '', data };
        links = { unsubscribeUrl: `${config.publicUrl}/unsubscribe/preview`, subscribeUrl: `${config.publicUrl}/subscribe/preview` };
      }
      const vars = buildVariables({ contact, context: body.context ?? {}, ...links });
      try {
        const { subject, html, text } = await renderer.email(template, vars, links.unsubscribeUrl);
        return { subject, html, text };
      } catch (err) {
        if (err instanceof TemplateError) throw badRequest(`template does not render: ${err.message}`);
        throw err;
      }
    }),

    route(api.updateTemplate, async ({ project, params: { id }, body }) => {
      checkSyntax(body);
      const [row] = await db
        .update(templates)
        .set({ ...body, updatedAt: sql`now()` })
        .where(and(eq(templates.id, id), eq(templates.projectId, project.id)))
        .returning();
      if (!row) throw notFound('template');
      return templateOut(row);
    }),

    route(api.deleteTemplate, async ({ project, params: { id } }) => {
      await db.transaction(async (tx) => {
        const [row] = await tx
          .select()
          .from(templates)
          .where(and(eq(templates.id, id), eq(templates.projectId, project.id)))
          .for('update');
        if (!row) throw notFound('template');
        const names = await workflowsUsingTemplate(tx, project.id, id);
        if (names.length) {
          throw conflict(`template is used by workflow(s): ${names.join(', ')}`, 'CONFLICT', { workflows: names });
        }
        await tx.delete(templates).where(eq(templates.id, id));
      });
    }),
  ];
}
