import { describe, expect, it } from 'vitest';
import { classifyFailure, grpcCode } from '../../temporal/command-failures';

/** An error as the Temporal client throws it: its own message, the gRPC error as its cause. */
function clientError(code: number, message = 'details'): Error {
  return new Error('Failed to start Workflow', { cause: Object.assign(new Error(`${code} ${message}`), { code }) });
}

describe('how a failed outbox command is retried', () => {
  it('never counts Temporal being unreachable, slow, overloaded or refusing the credentials', () => {
    for (const code of [14, 4, 8, 1, 16, 7]) expect(classifyFailure(clientError(code)), `code ${code}`).toBe('unreachable');
  });

  it('gives up at once on a request Temporal refuses as such', () => {
    for (const code of [3, 5, 6, 9, 11, 12]) expect(classifyFailure(clientError(code)), `code ${code}`).toBe('permanent');
  });

  it('counts every other failure toward the attempt limit', () => {
    for (const code of [2, 10, 13, 15]) expect(classifyFailure(clientError(code)), `code ${code}`).toBe('counted');
    expect(classifyFailure(new TypeError('cannot read properties of undefined'))).toBe('counted');
    expect(classifyFailure('a string')).toBe('counted');
  });

  it('finds the code however deep the client wrapped it', () => {
    expect(grpcCode(new Error('outer', { cause: clientError(3) }))).toBe(3);
    expect(grpcCode(new Error('no code'))).toBeUndefined();
  });
});
