/**
 * /templates (SPEC §5.2): edits are cosmetic; deleting one a current graph uses is refused.
 * `POST /templates/:id/preview` renders a template as SEND_EMAIL would (footer, text part, headers;
 * no tracking) for a contact or for given data, without sending or recording anything.
 */
import { Router } from 'express';
import { and, desc, eq, ilike, sql } from 'drizzle-orm';
import { z } from 'zod';
import { emailLinks } from '../../activities/email-links';
import { buildVariables, TemplateError } from '../../activities/render';
import { contacts, steps, templates, workflows } from '../../db/schema';
import { projectOf } from '../auth';
import type { ApiDeps } from '../deps';
import { listPage } from '../paging';
import { badRequest, conflict, notFound } from '../errors';
import { templateFields, templateSyntaxIssues } from '../template-input';
import { templateOut } from '../serialize';
import { jsonObject, pagination, parse, pathId } from '../validate';
import { likePattern } from './contacts';

const fields = templateFields;
const createTemplate = z.strictObject(fields);
const patchTemplate = z.strictObject({
  ...fields,
  name: fields.name.optional(),
  subject: fields.subject.optional(),
  body: fields.body.optional(),
});

const previewBody = z.strictObject({ contactId: z.uuid().optional(), data: jsonObject.optional(), context: jsonObject.optional() });

/** Refuses a template whose subject, body or text does not parse, naming line and column. */
function checkSyntax(body: { subject?: string; body?: string; text?: string | null }): void {
  const details = templateSyntaxIssues(body);
  if (details.length) throw badRequest(`template does not parse: ${details.map((d) => `${d.path}: ${d.message}`).join('; ')}`, details);
}

export function templateRoutes({ database, config, renderer }: ApiDeps): Router {
  const router = Router();
  const { db } = database;

  router.post('/templates', async (req, res) => {
    const project = projectOf(req);
    const body = parse(createTemplate, req.body);
    checkSyntax(body);
    const [row] = await db
      .insert(templates)
      .values({ ...body, type: body.type ?? 'MARKETING', projectId: project.id })
      .returning();
    res.status(201).json(templateOut(row!));
  });

  router.get('/templates', async (req, res) => {
    const project = projectOf(req);
    const q = parse(z.object({ search: z.string().optional(), ...pagination }), req.query, 'query');
    const where = and(eq(templates.projectId, project.id), q.search ? ilike(templates.name, likePattern(q.search)) : undefined);
    res.json(await listPage(db, templates, where, [desc(templates.createdAt), desc(templates.id)], q, templateOut));
  });

  router.get('/templates/:id', async (req, res) => {
    const project = projectOf(req);
    const id = pathId(req.params.id, 'template');
    const [row] = await db.select().from(templates).where(and(eq(templates.id, id), eq(templates.projectId, project.id)));
    if (!row) throw notFound('template');
    res.json(templateOut(row));
  });

  router.post('/templates/:id/preview', async (req, res) => {
    const project = projectOf(req);
    const id = pathId(req.params.id, 'template');
    const body = parse(previewBody, req.body);
    if ((body.contactId === undefined) === (body.data === undefined)) {
      throw badRequest('give either contactId or data', [{ path: 'contactId', message: 'give either contactId or data' }]);
    }
    const [template] = await db.select().from(templates).where(and(eq(templates.id, id), eq(templates.projectId, project.id)));
    if (!template) throw notFound('template');
    let contact: { id: string; email: string; data: Record<string, unknown> };
    let links: { unsubscribeUrl: string; subscribeUrl: string };
    if (body.contactId !== undefined) {
      const [row] = await db.select().from(contacts).where(and(eq(contacts.id, body.contactId), eq(contacts.projectId, project.id)));
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
      res.json({ subject, html, text });
    } catch (err) {
      if (err instanceof TemplateError) throw badRequest(`template does not render: ${err.message}`);
      throw err;
    }
  });

  router.patch('/templates/:id', async (req, res) => {
    const project = projectOf(req);
    const id = pathId(req.params.id, 'template');
    const body = parse(patchTemplate, req.body);
    checkSyntax(body);
    const [row] = await db
      .update(templates)
      .set({ ...body, updatedAt: sql`now()` })
      .where(and(eq(templates.id, id), eq(templates.projectId, project.id)))
      .returning();
    if (!row) throw notFound('template');
    res.json(templateOut(row));
  });

  router.delete('/templates/:id', async (req, res) => {
    const project = projectOf(req);
    const id = pathId(req.params.id, 'template');
    await db.transaction(async (tx) => {
      const [row] = await tx.select().from(templates).where(and(eq(templates.id, id), eq(templates.projectId, project.id))).for('update');
      if (!row) throw notFound('template');
      const users = await tx
        .select({ name: workflows.name })
        .from(steps)
        .innerJoin(workflows, eq(workflows.id, steps.workflowId))
        .where(and(eq(workflows.projectId, project.id), eq(steps.type, 'SEND_EMAIL'), sql`${steps.config}->>'templateId' = ${id}`));
      if (users.length) {
        const names = [...new Set(users.map((u) => u.name))];
        throw conflict(`template is used by workflow(s): ${names.join(', ')}`, 'CONFLICT', { workflows: names });
      }
      await tx.delete(templates).where(eq(templates.id, id));
    });
    res.status(204).end();
  });

  return router;
}
