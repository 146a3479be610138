import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { classifyFailure, withClassifiedFailures } from '../../activities/failures';
import { TemplateError } from '../../core/render';

/** A Postgres error as pg raises it, wrapped as drizzle wraps it. */
function queryError(code: string, message: string): Error {
  const cause = Object.assign(new Error(message), { code });
  return Object.assign(new Error(`Failed query: insert …`), { cause });
}

describe('activity failure classification', () => {
  it('makes template errors and refused data non-retryable', () => {
    const template = classifyFailure(new TemplateError('undefined filter: nope', 1, 4)) as ApplicationFailure;
    expect([template.type, template.nonRetryable, template.message]).toEqual(['TemplateError', true, 'undefined filter: nope (line 1, column 4)']);
    for (const code of ['23505', '23503', '22P05', '22001']) {
      const refused = classifyFailure(queryError(code, 'value refused')) as ApplicationFailure;
      expect([refused.type, refused.nonRetryable, refused.message]).toEqual(['DataRefused', true, `the database refused the data (${code}): value refused`]);
    }
  });

  it('leaves failures of the moment retryable as they are', () => {
    for (const err of [
      queryError('57P01', 'terminating connection'),
      queryError('40001', 'serialization failure'),
      new Error('connect ECONNREFUSED'),
      Object.assign(new Error('x'), { code: 'ECONNRESET' }),
    ]) {
      expect(classifyFailure(err)).toBe(err);
    }
    const already = ApplicationFailure.retryable('busy', 'WebhookUnavailable');
    expect(classifyFailure(already)).toBe(already);
  });

  it('wraps every activity and keeps its results', async () => {
    const wrapped = withClassifiedFailures({
      ok: async (n: number) => n * 2,
      bad: async () => {
        throw new TemplateError('broken');
      },
    });
    expect(await wrapped.ok(21)).toBe(42);
    await expect(wrapped.bad()).rejects.toMatchObject({ type: 'TemplateError', nonRetryable: true });
  });
});
