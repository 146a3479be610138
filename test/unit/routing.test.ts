import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { endpoint, pathParam } from '../../api/endpoint';
import { ApiError } from '../../api/errors';
import { errorHandler, mountRoutes, reply, route, type ResponseCheck } from '../../api/routing';

// Endpoints of a small made-up API, served by the real routing layer on a real HTTP server.
const Thing = z.strictObject({ id: z.uuid(), name: z.string() });
const getThing = endpoint({
  operationId: 'getThing',
  method: 'get',
  path: '/things/:id',
  auth: 'public',
  tag: 't',
  summary: 's',
  params: { id: pathParam.id('thing') },
  query: z.object({ page: z.coerce.number().int().min(1).default(1), mode: z.enum(['a', 'b']).optional() }),
  responses: { 200: Thing },
  database: false,
});
const createThing = endpoint({
  operationId: 'createThing',
  method: 'post',
  path: '/things',
  auth: 'public',
  tag: 't',
  summary: 's',
  body: z.strictObject({ name: z.string().min(1), size: z.int().optional() }),
  responses: { 201: Thing },
  errors: { 409: ['CONFLICT'] },
  database: false,
});
const deleteThing = endpoint({
  operationId: 'deleteThing',
  method: 'delete',
  path: '/things/:id',
  auth: 'public',
  tag: 't',
  summary: 's',
  params: { id: pathParam.id('thing') },
  responses: { 204: null },
  database: false,
});

const ID = '0f8fad5b-d9cb-469f-a165-70867728950e';

describe('routes served from their declarations', () => {
  let server: Server;
  let url: string;
  const check: ResponseCheck = { violations: [] };

  beforeAll(async () => {
    const app = express();
    mountRoutes(
      app,
      [
        // Answers a body that breaks its schema when asked to.
        route(getThing, ({ params, query }) =>
          query.mode === 'b' ? ({ id: params.id, name: 42 } as unknown as { id: string; name: string }) : { id: params.id, name: `page ${query.page}` },
        ),
        route(createThing, ({ body }) => {
          if (body.name === 'taken') throw new ApiError(409, 'CONFLICT', 'taken');
          if (body.name === 'teapot') throw new ApiError(418, 'TEAPOT', 'undeclared');
          if (body.name === 'other') return reply(200, { id: ID, name: body.name });
          return { id: ID, name: body.name };
        }),
        route(deleteThing, () => undefined),
      ],
      { auth: { pk: unusedAuth, sk: unusedAuth, admin: unusedAuth }, responseCheck: check },
    );
    app.use(errorHandler(check));
    server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
  });

  const call = async (method: string, path: string, body?: string) => {
    const res = await fetch(`${url}${path}`, { method, body, headers: body ? { 'content-type': 'application/json' } : {} });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };

  it('validates path ids (404), query (`query.<name>`) and body (own paths) as api/validate.ts does', async () => {
    expect(await call('GET', '/things/nope')).toEqual({ status: 404, body: { error: { code: 'NOT_FOUND', message: 'thing not found' } } });
    const badQuery = await call('GET', `/things/${ID}?page=0&mode=c`);
    expect(badQuery.status).toBe(400);
    expect(badQuery.body.error.details.map((d: { path: string }) => d.path)).toEqual(['query.page', 'query.mode']);
    const badBody = await call('POST', '/things', '{"name":"","size":1.5,"extra":1}');
    expect(badBody.status).toBe(400);
    expect(badBody.body.error.details.map((d: { path: string }) => d.path).sort()).toEqual(['extra', 'name', 'size']);
    expect((await call('POST', '/things', '{"name":')).body.error.code).toBe('VALIDATION_ERROR');
  });

  it('answers the declared status with the handler result, coerced input included', async () => {
    expect(await call('GET', `/things/${ID}?page=3`)).toEqual({ status: 200, body: { id: ID, name: 'page 3' } });
    expect(await call('POST', '/things', '{"name":"x"}')).toEqual({ status: 201, body: { id: ID, name: 'x' } });
    expect(await call('DELETE', `/things/${ID}`)).toEqual({ status: 204, body: undefined });
    expect(await call('POST', '/things', '{"name":"taken"}')).toEqual({ status: 409, body: { error: { code: 'CONFLICT', message: 'taken' } } });
    expect(check.violations).toEqual([]);
  });

  it('fails loudly on an answer that breaks the declaration', async () => {
    const broken = await call('GET', `/things/${ID}?mode=b`);
    expect(broken).toEqual({ status: 500, body: { error: { code: 'INTERNAL', message: 'internal error' } } });
    expect(await call('POST', '/things', '{"name":"teapot"}')).toMatchObject({ status: 418 });
    expect(await call('POST', '/things', '{"name":"other"}')).toMatchObject({ status: 200 });
    expect(check.violations).toEqual([
      'GET /things/:id (getThing): 200 body does not match its schema: name: Invalid input: expected string, received number',
      'GET /things/:id: answered 500',
      'POST /things (createThing): answered error 418 TEAPOT, which it does not declare',
      'POST /things (createThing): answered 200, which it does not declare',
    ]);
  });
});

function unusedAuth(): never {
  throw new Error('no route here needs a key');
}
