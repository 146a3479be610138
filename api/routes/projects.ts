/** /admin/projects: creating projects and their keys, behind ADMIN_API_KEY. */
import { timingSafeEqual } from 'node:crypto';
import { Router, type RequestHandler } from 'express';
import { desc } from 'drizzle-orm';
import { z } from 'zod';
import { projects } from '../../db/schema';
import { hashSecret, newKeys } from '../auth';
import type { ApiDeps } from '../deps';
import { listPage } from '../paging';
import { ApiError, notFound } from '../errors';
import { pagination, parse } from '../validate';

const createProject = z.strictObject({ name: z.string().trim().min(1).max(200) });

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function projectRoutes({ config, database }: ApiDeps): Router {
  const router = Router();
  const admin: RequestHandler = (req, _res, next) => {
    // Without ADMIN_API_KEY the admin API does not exist.
    if (!config.adminApiKey) throw notFound('route');
    const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    if (!m) throw new ApiError(401, 'UNAUTHORIZED', 'missing admin key');
    if (!sameSecret(m[1]!, config.adminApiKey)) throw new ApiError(401, 'UNAUTHORIZED', 'unknown admin key');
    next();
  };
  const inboundAddress = (id: string) => `${id}@${config.inboundDomain}`;

  router.post('/admin/projects', admin, async (req, res) => {
    const body = parse(createProject, req.body);
    const keys = newKeys();
    const [p] = await database.db
      .insert(projects)
      .values({ name: body.name, publicKey: keys.publicKey, secretKeyHash: hashSecret(keys.secretKey) })
      .returning();
    res.status(201).json({ id: p!.id, name: p!.name, publicKey: p!.publicKey, secretKey: keys.secretKey, inboundAddress: inboundAddress(p!.id) });
  });

  router.get('/admin/projects', admin, async (req, res) => {
    const q = parse(z.object(pagination), req.query, 'query');
    res.json(
      await listPage(database.db, projects, undefined, [desc(projects.createdAt), desc(projects.id)], q, (p) => ({
        id: p.id,
        name: p.name,
        publicKey: p.publicKey,
        inboundAddress: inboundAddress(p.id),
        createdAt: p.createdAt.toISOString(),
      })),
    );
  });
  return router;
}
