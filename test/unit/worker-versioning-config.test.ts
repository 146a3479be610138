import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../app/config';

const base = { DATABASE_URL: 'postgres://localhost/trellis' };

describe('Worker Versioning configuration', () => {
  it('is off unless a deployment name and a build id are both set', () => {
    expect(loadConfig(base).workerVersioning).toBeUndefined();
    expect(loadConfig({ ...base, TEMPORAL_DEPLOYMENT_NAME: 'trellis', TEMPORAL_BUILD_ID: '2026.12.1' }).workerVersioning).toEqual({
      deploymentName: 'trellis',
      buildId: '2026.12.1',
      defaultBehavior: 'AUTO_UPGRADE',
    });
    expect(
      loadConfig({ ...base, TEMPORAL_DEPLOYMENT_NAME: 'trellis', TEMPORAL_BUILD_ID: 'b2', TEMPORAL_VERSIONING_BEHAVIOR: 'PINNED' }).workerVersioning
        ?.defaultBehavior,
    ).toBe('PINNED');
  });

  it('refuses half a version, or an unknown behaviour, naming the variable', () => {
    expect(() => loadConfig({ ...base, TEMPORAL_DEPLOYMENT_NAME: 'trellis' })).toThrow(ConfigError);
    expect(() => loadConfig({ ...base, TEMPORAL_DEPLOYMENT_NAME: 'trellis' })).toThrow(
      /TEMPORAL_BUILD_ID: set both TEMPORAL_DEPLOYMENT_NAME and TEMPORAL_BUILD_ID/,
    );
    expect(() => loadConfig({ ...base, TEMPORAL_BUILD_ID: 'b1' })).toThrow(/TEMPORAL_BUILD_ID: set both/);
    expect(() => loadConfig({ ...base, TEMPORAL_VERSIONING_BEHAVIOR: 'SOMETIMES' })).toThrow(/TEMPORAL_VERSIONING_BEHAVIOR/);
  });
});
