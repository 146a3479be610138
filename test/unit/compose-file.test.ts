/**
 * docker-compose.yml cannot run here (no Docker engine), so its shape is checked: it validates
 * against the Compose Specification's JSON schema, names no deprecated image or tool, and sets for
 * the Trellis services only variables the README documents.
 *
 * test/fixtures/compose-spec.json is the Compose Specification's schema, vendored unchanged from
 * github.com/compose-spec/compose-spec, file schema/compose-spec.json at commit
 * a08f8d51631b7127ddac3d2c65537db429d0f1d0.
 */
import fs from 'node:fs';
import path from 'node:path';
import Ajv from 'ajv';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const ROOT = path.resolve(__dirname, '../..');
const composeText = fs.readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8');
// `merge: true` resolves the `<<: *trellis-env` merge key as Compose does.
const compose = parse(composeText, { merge: true }) as {
  services: Record<string, { image?: string; environment?: Record<string, string | number>; healthcheck?: { test: string[] }; command?: string[] }>;
};

function composeValidator() {
  const schema = JSON.parse(fs.readFileSync(path.join(ROOT, 'test/fixtures/compose-spec.json'), 'utf8'));
  // The schema names its draft by an https URI, which Ajv's bundled draft-07 meta-schema is not keyed under.
  delete schema.$schema;
  const ajv = new Ajv({ allErrors: true });
  return ajv.compile(schema);
}

describe('docker-compose.yml', () => {
  it('validates against the Compose Specification schema', () => {
    const validate = composeValidator();
    const valid = validate(compose);
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
  });

  it('the schema check catches a broken file', () => {
    const validate = composeValidator();
    expect(validate({ services: { api: { image: 'x', ports: 'not a list', unknownKey: true } } })).toBe(false);
  });

  it('runs Temporal on current images: server, admin-tools for the schema, the Web UI; no auto-setup, no tctl', () => {
    const images = Object.values(compose.services).map((s) => s.image?.replace(/:.*/, ''));
    expect(images).toEqual(expect.arrayContaining(['postgres', 'temporalio/server', 'temporalio/admin-tools', 'temporalio/ui', 'axllent/mailpit']));
    expect(composeText).not.toMatch(/auto-setup|\btctl\b/);
    const schemaSetup = compose.services['temporal-schema']!.command!.join('\n');
    expect(schemaSetup).toContain('temporal-sql-tool --plugin postgres12');
    for (const db of ['temporal', 'visibility']) expect(schemaSetup).toContain(`update-schema -d /etc/temporal/schema/postgresql/v12/${db}/versioned`);
    expect(compose.services['temporal-ready']!.command!.join('\n')).toContain('temporal operator cluster health');
    expect(compose.services.api!.environment!.ROLE).toBe('api');
    expect(compose.services.worker!.environment!.ROLE).toBe('worker');
  });

  it('sets for the API and the worker only variables the README documents', () => {
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const documented = new Set([...readme.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1]));
    expect(documented.size).toBeGreaterThan(10);
    for (const name of ['api', 'worker']) {
      const variables = Object.keys(compose.services[name]!.environment!);
      expect(variables.length).toBeGreaterThan(0);
      expect(
        variables.filter((v) => !documented.has(v)),
        `${name}: undocumented variables`,
      ).toEqual([]);
    }
  });
});
