/** Project keys (SPEC §4): public `pk_…` for tracking, secret `sk_…` for everything else. */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { RequestHandler, Request } from 'express';
import { eq } from 'drizzle-orm';
import type { Database } from '../db/client';
import { projects } from '../db/schema';
import { ApiError, notFound } from './errors';

export type ProjectRow = typeof projects.$inferSelect;

/** Secret keys are stored as their SHA-256: they are random, so a fast hash is enough. */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** A new pair of keys for a project. */
export function newKeys(): { publicKey: string; secretKey: string } {
  return { publicKey: `pk_${randomBytes(18).toString('base64url')}`, secretKey: `sk_${randomBytes(24).toString('base64url')}` };
}

function bearer(req: Request): string | undefined {
  const h = req.headers.authorization;
  if (!h) return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
  return m?.[1];
}

/** The project of the request; set by `authenticate`. */
export function projectOf(req: Request): ProjectRow {
  const p = (req as Request & { project?: ProjectRow }).project;
  if (!p) throw new ApiError(401, 'UNAUTHORIZED', 'missing API key');
  return p;
}

/** Known keys are remembered briefly: every request needs its project, keys never change. */
const KEY_CACHE_MS = 60_000;
const KEY_CACHE_SIZE = 10_000;

/** Resolves the bearer key to its project; `allowPublic` admits a `pk_` key (only /v1/track). */
export function authenticate(database: Database, options: { allowPublic: boolean }): RequestHandler {
  const cache = new Map<string, { project: ProjectRow; until: number }>();
  async function lookup(key: string): Promise<ProjectRow | undefined> {
    const hit = cache.get(key);
    if (hit && hit.until > Date.now()) return hit.project;
    let project: ProjectRow | undefined;
    if (key.startsWith('pk_')) [project] = await database.db.select().from(projects).where(eq(projects.publicKey, key));
    else if (key.startsWith('sk_'))
      [project] = await database.db
        .select()
        .from(projects)
        .where(eq(projects.secretKeyHash, hashSecret(key)));
    if (project) {
      if (cache.size >= KEY_CACHE_SIZE) cache.clear();
      cache.set(key, { project, until: Date.now() + KEY_CACHE_MS });
    }
    return project;
  }
  return async (req, _res, next) => {
    const key = bearer(req);
    if (!key) throw new ApiError(401, 'UNAUTHORIZED', 'missing API key: send Authorization: Bearer sk_…');
    const project = await lookup(key);
    if (!project) throw new ApiError(401, 'UNAUTHORIZED', 'unknown API key');
    if (key.startsWith('pk_') && !options.allowPublic) {
      throw new ApiError(403, 'FORBIDDEN', 'this route needs the secret key (sk_…), not the public key');
    }
    (req as Request & { project?: ProjectRow }).project = project;
    next();
  };
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The admin key check of /admin/*; without ADMIN_API_KEY the admin API does not exist (404). */
export function authenticateAdmin(adminApiKey: string | undefined): RequestHandler {
  return (req, _res, next) => {
    if (!adminApiKey) throw notFound('route');
    const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    if (!m) throw new ApiError(401, 'UNAUTHORIZED', 'missing admin key');
    if (!sameSecret(m[1]!, adminApiKey)) throw new ApiError(401, 'UNAUTHORIZED', 'unknown admin key');
    next();
  };
}
