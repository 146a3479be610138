/**
 * /templates (SPEC §5.2): edits are cosmetic; deleting one a current graph uses is refused.
 * `POST /templates/:id/preview` renders a template as SEND_EMAIL would (footer, text part, headers;
 * no tracking) for a contact or for given data, without sending or recording anything.
 */
import { emailLinks } from '../../email-links/tokens';
import { buildVariables, TemplateError } from '../../core/render';
import { templateSyntaxIssues } from '../template-input';
import { getContact } from '../../db/contacts';
import { deleteUnusedTemplate, getTemplate, insertTemplate, templatePage, updateTemplate } from '../../db/templates';
import * as api from '../contracts/templates';
import type { ApiDeps } from '../deps';
import { badRequest, conflict, notFound } from '../errors';
import { pageOut } from '../paging';
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
      return templateOut(await insertTemplate(db, project.id, { ...body, type: body.type ?? 'MARKETING' }));
    }),

    route(api.listTemplates, async ({ project, query: q }) => {
      return pageOut(await templatePage(db, project.id, q), q, templateOut);
    }),

    route(api.getTemplate, async ({ project, params: { id } }) => {
      const row = await getTemplate(db, project.id, id);
      if (!row) throw notFound('template');
      return templateOut(row);
    }),

    route(api.previewTemplate, async ({ project, params: { id }, body }) => {
      if ((body.contactId === undefined) === (body.data === undefined)) {
        throw badRequest('give either contactId or data', [{ path: 'contactId', message: 'give either contactId or data' }]);
      }
      const template = await getTemplate(db, project.id, id);
      if (!template) throw notFound('template');
      let contact: { id: string; email: string; data: Record<string, unknown> };
      let links: { unsubscribeUrl: string; subscribeUrl: string };
      if (body.contactId !== undefined) {
        const row = await getContact(db, project.id, body.contactId);
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
      const row = await updateTemplate(db, project.id, id, body);
      if (!row) throw notFound('template');
      return templateOut(row);
    }),

    route(api.deleteTemplate, async ({ project, params: { id } }) => {
      const outcome = await deleteUnusedTemplate(db, project.id, id);
      if ('missing' in outcome) throw notFound('template');
      if ('usedBy' in outcome) throw conflict(`template is used by workflow(s): ${outcome.usedBy.join(', ')}`, 'CONFLICT', { workflows: outcome.usedBy });
    }),
  ];
}
