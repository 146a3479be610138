import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../app/config';

const base = { DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/trellis' };

/** The message loadConfig throws for `env`, or undefined when it parses. */
function problem(env: Record<string, string>): string | undefined {
  try {
    loadConfig({ ...base, ...env });
    return undefined;
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).message;
  }
}

describe('worker sizing (WORKER_*, DATABASE_POOL_SIZE)', () => {
  it('defaults to a bounded cache, three quarters of a 20-connection pool for activities and twice that and ten workflow tasks', () => {
    const config = loadConfig(base);
    expect(config.databasePoolSize).toBe(20);
    expect(config.worker).toEqual({ maxCachedWorkflows: 100, maxConcurrentWorkflowTasks: 40, maxConcurrentActivities: 15, stickyTimeoutMs: 1000 });
    // The workflow tasks follow the activities, given or sized to the pool.
    expect(loadConfig({ ...base, WORKER_MAX_CONCURRENT_ACTIVITIES: '20' }).worker.maxConcurrentWorkflowTasks).toBe(50);
    expect(loadConfig({ ...base, DATABASE_POOL_SIZE: '40' }).worker.maxConcurrentWorkflowTasks).toBe(70);
  });

  it('takes each variable as given, and sizes the activities to the pool unless told', () => {
    const config = loadConfig({
      ...base,
      DATABASE_POOL_SIZE: '40',
      WORKER_MAX_CACHED_WORKFLOWS: '1000',
      WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: '50',
      WORKER_STICKY_TIMEOUT_MS: '5000',
    });
    expect(config.databasePoolSize).toBe(40);
    expect(config.worker).toEqual({ maxCachedWorkflows: 1000, maxConcurrentWorkflowTasks: 50, maxConcurrentActivities: 30, stickyTimeoutMs: 5000 });
    expect(loadConfig({ ...base, DATABASE_POOL_SIZE: '2' }).worker.maxConcurrentActivities).toBe(1);
    expect(loadConfig({ ...base, WORKER_MAX_CONCURRENT_ACTIVITIES: '20' }).worker.maxConcurrentActivities).toBe(20);
  });

  it('keeps the default workflow tasks within a smaller cache', () => {
    expect(loadConfig({ ...base, WORKER_MAX_CACHED_WORKFLOWS: '4' }).worker).toMatchObject({ maxCachedWorkflows: 4, maxConcurrentWorkflowTasks: 4 });
  });

  it('accepts a cache of 0 (every workflow task replays its history)', () => {
    expect(loadConfig({ ...base, WORKER_MAX_CACHED_WORKFLOWS: '0', WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: '64' }).worker).toMatchObject({
      maxCachedWorkflows: 0,
      maxConcurrentWorkflowTasks: 64,
    });
  });

  it('treats an empty value as unset', () => {
    expect(loadConfig({ ...base, WORKER_MAX_CACHED_WORKFLOWS: '' }).worker.maxCachedWorkflows).toBe(100);
  });

  it.each([
    [{ WORKER_MAX_CACHED_WORKFLOWS: 'many' }, 'WORKER_MAX_CACHED_WORKFLOWS: expected a whole number'],
    [{ WORKER_MAX_CACHED_WORKFLOWS: '2.5' }, 'WORKER_MAX_CACHED_WORKFLOWS: expected a whole number'],
    [{ WORKER_MAX_CACHED_WORKFLOWS: '-1' }, 'WORKER_MAX_CACHED_WORKFLOWS: expected at least 0'],
    [{ WORKER_MAX_CACHED_WORKFLOWS: '1' }, 'WORKER_MAX_CACHED_WORKFLOWS: expected 0 (no cache: every workflow task replays its history) or at least 2'],
    [{ WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: '1' }, 'WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: expected at least 2'],
    [
      { WORKER_MAX_CACHED_WORKFLOWS: '100', WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: '101' },
      'WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: must not exceed WORKER_MAX_CACHED_WORKFLOWS (100): a task runs on a cached workflow',
    ],
    [{ WORKER_MAX_CONCURRENT_ACTIVITIES: '0' }, 'WORKER_MAX_CONCURRENT_ACTIVITIES: expected at least 1'],
    [{ WORKER_STICKY_TIMEOUT_MS: '50' }, 'WORKER_STICKY_TIMEOUT_MS: expected at least 100'],
    [{ WORKER_STICKY_TIMEOUT_MS: '3600000' }, 'WORKER_STICKY_TIMEOUT_MS: expected at most 600000'],
    [{ WORKER_STICKY_TIMEOUT_MS: '1s' }, 'WORKER_STICKY_TIMEOUT_MS: expected a whole number'],
    [{ WORKER_MAX_CONCURRENT_ACTIVITIES: 'ten' }, 'WORKER_MAX_CONCURRENT_ACTIVITIES: expected a whole number'],
    [
      { WORKER_MAX_CONCURRENT_ACTIVITIES: '21' },
      'WORKER_MAX_CONCURRENT_ACTIVITIES: must not exceed DATABASE_POOL_SIZE (20): every activity holds a database connection',
    ],
    [
      { DATABASE_POOL_SIZE: '8', WORKER_MAX_CONCURRENT_ACTIVITIES: '10' },
      'WORKER_MAX_CONCURRENT_ACTIVITIES: must not exceed DATABASE_POOL_SIZE (8): every activity holds a database connection',
    ],
    [{ DATABASE_POOL_SIZE: '1' }, 'DATABASE_POOL_SIZE: expected at least 2'],
  ])('refuses %j', (env, message) => {
    expect(problem(env)).toBe(`invalid configuration:\n  ${message}`);
  });

  it('names every bad variable at once', () => {
    expect(problem({ WORKER_MAX_CACHED_WORKFLOWS: 'x', WORKER_MAX_CONCURRENT_ACTIVITIES: '0' })).toBe(
      'invalid configuration:\n  WORKER_MAX_CACHED_WORKFLOWS: expected a whole number\n  WORKER_MAX_CONCURRENT_ACTIVITIES: expected at least 1',
    );
  });
});
