/** POST /templates/preview: unsaved template content rendered for sample data (the editor's live preview). */
import { buildVariables, TemplateError } from '../../core/render';
import * as api from '../contracts/template-drafts';
import type { ApiDeps } from '../deps';
import { badRequest } from '../errors';
import { route, type Route } from '../routing';
import { templateSyntaxIssues } from '../template-input';

export function templateDraftRoutes({ config, renderer }: ApiDeps): Route[] {
  return [
    route(api.previewTemplateDraft, async ({ body }) => {
      const details = templateSyntaxIssues(body);
      if (details.length) throw badRequest(`template does not parse: ${details.map((d) => `${d.path}: ${d.message}`).join('; ')}`, details);
      const data = body.data ?? {};
      const links = { unsubscribeUrl: `${config.publicUrl}/unsubscribe/preview`, subscribeUrl: `${config.publicUrl}/subscribe/preview` };
      const vars = buildVariables({
        contact: { id: '', email: typeof data.email === 'string' ? data.email : '', data },
        context: body.context ?? {},
        ...links,
      });
      const template = { subject: body.subject, body: body.body, text: body.text ?? null, type: body.type ?? 'MARKETING' };
      try {
        const { subject, html, text } = await renderer.email(template, vars, links.unsubscribeUrl);
        return { subject, html, text };
      } catch (err) {
        if (err instanceof TemplateError) throw badRequest(`template does not render: ${err.message}`);
        throw err;
      }
    }),
  ];
}
