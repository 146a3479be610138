/** Schemas every area shares: ids, timestamps, JSON objects, the error shape and the list envelope. */
import { z } from 'zod';
import { emailAddress } from '../../core/email-address';
import { component, documentAs } from './registry';

export const uuid = z.uuid();
/** ISO-8601 text as `Date.toISOString()` writes it. */
export const timestamp = z.iso.datetime();
export const jsonObject = component('JsonObject', z.record(z.string(), z.unknown()), { description: 'A JSON object of custom fields.' });

export const ErrorDetail = component('ErrorDetail', z.strictObject({ path: z.string(), message: z.string() }), {
  description: 'One bad field: body fields by their own dotted path (`config.amount`), query parameters as `query.<name>`.',
});

export const ErrorBody = component(
  'Error',
  z.strictObject({
    error: z.strictObject({
      code: z.string(),
      message: z.string(),
      details: z.union([z.array(ErrorDetail), z.record(z.string(), z.unknown())]).optional(),
      requestId: z.string().optional().meta({ description: "The request's id, as in the `X-Request-Id` header and the server's log line for it." }),
    }),
  }),
  {
    description: 'The one error shape (SPEC §10).',
    examples: [
      {
        error: {
          code: 'VALIDATION_ERROR',
          message: 'invalid body: email: must be an email address',
          details: [{ path: 'email', message: 'must be an email address' }],
        },
      },
    ],
  },
);

/** `page` (from 1) and `pageSize` (1..100, default 20). */
export const pagination = {
  page: z.coerce.number().int().min(1).default(1),
  pageSize: z.coerce.number().int().min(1).max(100).default(20),
};

/** The list envelope of SPEC §5 over `item`, named `<id>Page`. */
export function pageOf<T extends z.ZodType>(id: string, item: T) {
  return component(`${id}Page`, z.strictObject({ data: z.array(item), total: z.int().min(0), page: z.int().min(1), pageSize: z.int().min(1).max(100) }), {
    description: `One page of ${id} resources; \`total\` counts every match.`,
  });
}

/** An email address as clients send it: trimmed, A–Z lower-cased, ASCII (core/email-address.ts). */
export function emailInput() {
  return documentAs(emailAddress, z.email());
}
