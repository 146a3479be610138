/**
 * How a failed outbox command is retried. Temporal unreachable or slow is the cluster's state, not the
 * command's fault: retried without counting. A refusal of the command itself (a bad argument, a
 * payload over Temporal's limit) can never succeed: dead letter at once. Anything else counts toward
 * the attempt limit.
 */

/** gRPC status codes (fixed by the gRPC protocol). */
const status = {
  CANCELLED: 1,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;

export type FailureClass = 'unreachable' | 'permanent' | 'counted';

/** Temporal down, overloaded, slow, or refusing our credentials (an operator fixes those, not a retry of this command). */
const UNREACHABLE: ReadonlySet<number> = new Set([
  status.UNAVAILABLE,
  status.DEADLINE_EXCEEDED,
  status.RESOURCE_EXHAUSTED,
  status.CANCELLED,
  status.UNAUTHENTICATED,
  status.PERMISSION_DENIED,
]);

/** The server refused this request as such: sending it again cannot change the answer. */
const PERMANENT: ReadonlySet<number> = new Set([
  status.INVALID_ARGUMENT,
  status.NOT_FOUND,
  status.ALREADY_EXISTS,
  status.FAILED_PRECONDITION,
  status.OUT_OF_RANGE,
  status.UNIMPLEMENTED,
]);

/** The gRPC status code of an error or of one of its causes (the Temporal client wraps them). */
export function grpcCode(err: unknown): number | undefined {
  for (let e = err as { code?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth += 1) {
    if (typeof e.code === 'number') return e.code;
  }
  return undefined;
}

/** Sorts a failed command's error into how it is retried. */
export function classifyFailure(err: unknown): FailureClass {
  const code = grpcCode(err);
  if (code === undefined) return 'counted';
  if (UNREACHABLE.has(code)) return 'unreachable';
  if (PERMANENT.has(code)) return 'permanent';
  return 'counted';
}
