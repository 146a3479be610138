/**
 * The OpenAPI 3.1 document, generated from the endpoint declarations (api/contracts/) with zod's own
 * JSON Schema conversion: request schemas as they are sent (`io: input`), responses as they are
 * answered (`io: output`). Named schemas (api/schemas/registry.ts) become components.
 */
import { z } from 'zod';
import pkg from '../package.json';
import { documentedErrors, isJsonResponse, type Endpoint } from './endpoint';
import { ErrorBody } from './schemas/common';
import { documentedAs, schemaRegistry } from './schemas/registry';

type Json = Record<string, unknown>;
type Io = 'input' | 'output';

const ERROR_EXAMPLES: Record<string, { message: string; details?: unknown }> = {
  VALIDATION_ERROR: { message: 'invalid body: email: must be an email address', details: [{ path: 'email', message: 'must be an email address' }] },
  WORKFLOW_DISABLED: { message: 'the workflow is disabled; enable it to start executions' },
  UNAUTHORIZED: { message: 'missing API key: send Authorization: Bearer sk_…' },
  FORBIDDEN: { message: 'this route needs the secret key (sk_…), not the public key' },
  NOT_FOUND: { message: 'workflow not found' },
  CONFLICT: { message: 'a contact with email ada@example.com already exists' },
  WORKFLOW_LOCKED: {
    message: 'workflow is locked: it is enabled and has 3 active execution(s); disable it or cancel them to edit its structure',
    details: { activeExecutions: 3, unlock: ['disable the workflow', 'cancel all its executions'] },
  },
  TRIGGER_EVENT_IMMUTABLE: { message: 'the trigger event name cannot change once the workflow has executions; duplicate the workflow instead' },
  REENTRY_NOT_ALLOWED: { message: 'the contact has already entered this workflow, which does not allow re-entry' },
  IDEMPOTENCY_KEY_REUSED: { message: 'this Idempotency-Key was used with a different request body' },
  PAYLOAD_TOO_LARGE: { message: 'request body is over 1 MB' },
  RATE_LIMITED: { message: 'more than 1000 events per second' },
  SERVICE_UNAVAILABLE: { message: 'the database is unreachable' },
};

const STATUS_TEXT: Record<number, string> = {
  200: 'OK',
  201: 'Created',
  202: 'Accepted',
  204: 'No content',
  302: 'Found',
  400: 'Bad request',
  401: 'Missing or unknown key',
  403: 'The public key on a secret route',
  404: 'Not found',
  409: 'Conflict',
  413: 'Payload too large',
  429: 'Rate limited',
  503: 'A store the request needs is unreachable',
};

const SECURITY: Record<Endpoint['auth'], Json[]> = {
  public: [],
  pk: [{ publicKey: [] }, { secretKey: [] }],
  sk: [{ secretKey: [] }],
  admin: [{ adminKey: [] }],
};

const TAGS = [
  { name: 'Tracking', description: 'Events from your application (public or secret key).' },
  { name: 'Contacts', description: 'The people workflows run for (SPEC §5.1).' },
  { name: 'Templates', description: 'Email templates (SPEC §5.2).' },
  { name: 'Workflows', description: 'Workflow definitions and triggers (SPEC §5.3).' },
  { name: 'Steps and transitions', description: 'The graph of a workflow (SPEC §5.4).' },
  { name: 'Executions', description: "Contacts' runs through a workflow (SPEC §5.5)." },
  { name: 'Events and emails', description: 'What was tracked and sent.' },
  { name: 'Admin', description: 'Projects and their keys (ADMIN_API_KEY).' },
  { name: 'Email links', description: 'Public links put in emails: unsubscribe, tracking (SPEC §8).' },
  { name: 'Operations', description: 'Health, readiness and this description.' },
];

/** Converts zod schemas to JSON Schema, gathering named ones as components. */
class SchemaCollector {
  private readonly defs: Record<Io, Map<string, Json>> = { input: new Map(), output: new Map() };
  private readonly converted: { io: Io; schema: Json }[] = [];
  private readonly anonymous = new Map<string, string>();

  /** The JSON Schema of `schema`; `$ref`s are resolved to components by `finish`. */
  convert(schema: z.ZodType, io: Io): Json {
    const shown = documentedAs.get(schema);
    if (shown) return this.convert(shown, io);
    const json = z.toJSONSchema(schema, {
      metadata: schemaRegistry,
      io,
      target: 'draft-2020-12',
      unrepresentable: 'any',
      reused: 'inline',
      override: (ctx) => {
        // zod's email check is its pattern, which differs from other tools' idea of `format: email`.
        if (ctx.jsonSchema.format === 'email' && ctx.jsonSchema.pattern) delete ctx.jsonSchema.format;
        const stand = documentedAs.get(ctx.zodSchema as unknown as z.ZodType);
        if (!stand) return;
        for (const key of Object.keys(ctx.jsonSchema)) delete (ctx.jsonSchema as Json)[key];
        Object.assign(ctx.jsonSchema, this.convert(stand, io));
      },
    }) as Json;
    delete json.$schema;
    const defs = (json.$defs ?? {}) as Record<string, Json>;
    delete json.$defs;
    const renames = this.nameAnonymous(defs);
    rewriteRefs(json, (ref) => renames.get(ref) ?? ref);
    for (const [id, def] of Object.entries(defs)) {
      rewriteRefs(def, (ref) => renames.get(ref) ?? ref);
      this.defs[io].set(renames.get(id) ?? id, def);
    }
    // A named root that came back inline: refer to it like any other component.
    const id = schemaRegistry.get(schema)?.id;
    let root = json;
    if (id && !(id in defs)) {
      this.defs[io].set(id, json);
      root = { $ref: id };
    }
    this.converted.push({ io, schema: root });
    return root;
  }

  /** Anonymous shared schemas (`__schema0`, a recursive JSON value): the same content, the same name. */
  private nameAnonymous(defs: Record<string, Json>): Map<string, string> {
    const renames = new Map<string, string>();
    for (const [id, def] of Object.entries(defs)) {
      if (!id.startsWith('__')) continue;
      const canonical = JSON.stringify(def).replaceAll(`"#/$defs/${id}"`, '"#self"');
      let name = this.anonymous.get(canonical);
      if (!name) {
        name = canonical.includes('"#self"') && canonical.includes('"type":"null"') ? 'JsonValue' : `Schema${this.anonymous.size + 1}`;
        if ([...this.anonymous.values()].includes(name)) name = `${name}${this.anonymous.size + 1}`;
        this.anonymous.set(canonical, name);
      }
      renames.set(id, name);
    }
    return renames;
  }

  /** Resolves every `$ref` to `#/components/schemas/…` and returns the components. */
  finish(): Record<string, Json> {
    const components: Record<string, Json> = {};
    const inputName = new Map<string, string>();
    for (const [id, def] of this.defs.output) components[id] = def;
    for (const [id, def] of this.defs.input) {
      const same = components[id] === undefined || JSON.stringify(components[id]) === JSON.stringify(def);
      const name = same ? id : `${id}Input`;
      inputName.set(id, name);
      components[name] = def;
    }
    const target = (io: Io) => (ref: string) => `#/components/schemas/${io === 'input' ? (inputName.get(refId(ref)) ?? refId(ref)) : refId(ref)}`;
    for (const { io, schema } of this.converted) rewriteRefs(schema, target(io));
    for (const def of this.defs.output.values()) rewriteRefs(def, target('output'));
    for (const [id, def] of this.defs.input) if (components[inputName.get(id)!] === def) rewriteRefs(def, target('input'));
    return Object.fromEntries(Object.entries(components).sort(([a], [b]) => a.localeCompare(b)));
  }
}

function refId(ref: string): string {
  return ref.replace(/^#\/(\$defs|components\/schemas)\//, '');
}

/** Rewrites every `$ref` in `node` (in place); `map` gets the bare component id. */
function rewriteRefs(node: unknown, map: (ref: string) => string): void {
  if (Array.isArray(node)) {
    for (const item of node) rewriteRefs(item, map);
    return;
  }
  if (!node || typeof node !== 'object') return;
  const obj = node as Json;
  if (typeof obj.$ref === 'string' && !obj.$ref.startsWith('#/components/')) obj.$ref = map(refId(obj.$ref));
  for (const value of Object.values(obj)) rewriteRefs(value, map);
}

/** Error answers as shared components, one per status and set of codes (`NotFound`, `WorkflowLocked`, …). */
class ErrorResponses {
  readonly all: Record<string, Json> = {};

  /** The name of the component for `status` with `codes`, created on first use. */
  use(status: number, codes: string[]): string {
    const name = codes.map((c) => c.toLowerCase().replace(/(^|_)([a-z])/g, (_m, _s, ch: string) => ch.toUpperCase())).join('Or');
    this.all[name] ??= {
      description: `${STATUS_TEXT[status] ?? status}: ${codes.join(', ')}`,
      content: {
        'application/json': {
          schema: { $ref: '#/components/schemas/Error' },
          examples: Object.fromEntries(codes.map((code) => [code, { value: { error: { code, ...(ERROR_EXAMPLES[code] ?? { message: code }) } } }])),
        },
      },
    };
    return name;
  }
}

function operation(e: Endpoint, schemas: SchemaCollector, errorResponses: ErrorResponses): Json {
  const parameters: Json[] = [];
  for (const [name, p] of Object.entries(e.params ?? {})) {
    parameters.push({
      name,
      in: 'path',
      required: true,
      description: p.kind === 'id' ? `The ${p.what}'s id (anything else answers 404).` : `The signed ${p.what} token.`,
      schema: p.kind === 'id' ? { type: 'string', format: 'uuid' } : { type: 'string' },
    });
  }
  if (e.query) {
    const query = schemas.convert(e.query, 'input') as { properties?: Record<string, Json>; required?: string[] };
    for (const [name, schema] of Object.entries(query.properties ?? {})) {
      parameters.push({ name, in: 'query', required: (query.required ?? []).includes(name), schema });
    }
  }
  for (const [name, h] of Object.entries(e.headers ?? {})) {
    parameters.push({ name, in: 'header', required: false, description: h.description, schema: schemas.convert(h.schema, 'input') });
  }

  const responses: Record<string, Json> = {};
  for (const [status, spec] of Object.entries(e.responses)) {
    const description = STATUS_TEXT[Number(status)] ?? status;
    if (spec === null || spec === undefined) responses[status] = { description };
    else if (isJsonResponse(spec)) responses[status] = { description, content: { 'application/json': { schema: schemas.convert(spec, 'output') } } };
    else {
      responses[status] = {
        description: spec.description,
        ...(spec.contentType
          ? {
              content: {
                [spec.contentType]: { schema: { type: 'string', ...(spec.contentType.startsWith('image/') ? { contentMediaType: spec.contentType } : {}) } },
              },
            }
          : {}),
        ...(spec.headers
          ? { headers: Object.fromEntries(Object.entries(spec.headers).map(([h, d]) => [h, { description: d, schema: { type: 'string' } }])) }
          : {}),
      };
    }
  }
  for (const [status, codes] of documentedErrors(e)) {
    if (!responses[status]) responses[String(status)] = { $ref: `#/components/responses/${errorResponses.use(status, codes)}` };
  }

  return {
    operationId: e.operationId,
    summary: e.summary,
    ...(e.description ? { description: e.description } : {}),
    tags: [e.tag],
    security: SECURITY[e.auth],
    ...(parameters.length ? { parameters } : {}),
    ...(e.body
      ? {
          requestBody: {
            // A missing body reads as `{}`: required only where `{}` is refused.
            required: !e.body.safeParse({}).success,
            content: { 'application/json': { schema: schemas.convert(e.body, 'input'), ...(e.bodyExample !== undefined ? { example: e.bodyExample } : {}) } },
          },
        }
      : {}),
    responses,
  };
}

/** The OpenAPI 3.1 document of `endpoints`. */
export function openApiDocument(endpoints: readonly Endpoint[]): Json {
  const schemas = new SchemaCollector();
  // Every error answer refers to it.
  schemas.convert(ErrorBody, 'output');
  const errorResponses = new ErrorResponses();
  const paths: Record<string, Record<string, Json>> = {};
  for (const e of endpoints) {
    const path = e.path.replace(/:(\w+)/g, '{$1}');
    paths[path] ??= {};
    paths[path][e.method] = operation(e, schemas, errorResponses);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Trellis API',
      version: pkg.version,
      description:
        "Contact automation workflows on Temporal. Authenticate with `Authorization: Bearer sk_…` (a project's secret key); `POST /v1/track` also takes the public key `pk_…`; `/admin/*` takes ADMIN_API_KEY. Every error has the shape `{error: {code, message, details?}}`.",
      license: { name: 'MIT', identifier: 'MIT' },
    },
    servers: [{ url: '/' }],
    tags: TAGS,
    paths,
    components: {
      schemas: schemas.finish(),
      responses: errorResponses.all,
      securitySchemes: {
        secretKey: { type: 'http', scheme: 'bearer', description: "A project's secret key, `sk_…`." },
        publicKey: { type: 'http', scheme: 'bearer', description: "A project's public key, `pk_…` (only `POST /v1/track`)." },
        adminKey: { type: 'http', scheme: 'bearer', description: 'ADMIN_API_KEY (only `/admin/*`).' },
      },
    },
  };
}
