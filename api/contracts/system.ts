/** Health, readiness and the API's own description (public, no key). */
import { z } from 'zod';
import { endpoint } from '../endpoint';
import { Health, Readiness } from '../schemas/resources';

export const healthz = endpoint({
  operationId: 'healthz',
  method: 'get',
  path: '/healthz',
  auth: 'public',
  tag: 'Operations',
  summary: 'The process is up',
  responses: { 200: Health },
  database: false,
});

export const readyz = endpoint({
  operationId: 'readyz',
  method: 'get',
  path: '/readyz',
  auth: 'public',
  tag: 'Operations',
  summary: 'Postgres and Temporal are reachable and the worker polls',
  responses: { 200: Readiness, 503: Readiness },
  database: false,
});

export const metrics = endpoint({
  operationId: 'metrics',
  method: 'get',
  path: '/metrics',
  auth: 'public',
  tag: 'Operations',
  summary: "This process's metrics, in Prometheus text",
  responses: {
    200: {
      description: 'Prometheus exposition text (HTTP, executions, steps, emails, outbox, dispatcher, process and Temporal worker metrics).',
      contentType: 'text/plain',
    },
  },
  database: false,
});

export const openapi = endpoint({
  operationId: 'openapi',
  method: 'get',
  path: '/openapi.json',
  auth: 'public',
  tag: 'Operations',
  summary: 'This document (OpenAPI 3.1)',
  responses: { 200: z.record(z.string(), z.unknown()) },
  database: false,
});

export const docs = endpoint({
  operationId: 'docs',
  method: 'get',
  path: '/docs',
  auth: 'public',
  tag: 'Operations',
  summary: 'The API reference page (works offline)',
  responses: { 200: { description: 'An HTML page rendering /openapi.json.', contentType: 'text/html' } },
  database: false,
});
