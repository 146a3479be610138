/** Bulk starts (SPEC §5.5): a segment or a list of contacts enrolled in the background, and its progress. */
import { z } from 'zod';
import { endpoint, pathParam } from '../endpoint';
import { jsonObject } from '../schemas/common';
import { Enrolment, EnrolmentStarted } from '../schemas/resources';

const MAX_CONTACT_IDS = 1000;

export const startBulkEnrolment = endpoint({
  operationId: 'startBulkEnrolment',
  method: 'post',
  path: '/workflows/:id/executions/bulk',
  auth: 'sk',
  tag: 'Executions',
  summary: 'Enrol a segment or a list of contacts in the background',
  description:
    'Exactly one of `segmentId` or `contactIds` (at most 1,000). Every listed contact or segment member is enrolled under the re-entry rules, in batches; unknown ids and refused re-entries count as skipped.',
  params: { id: pathParam.id('workflow') },
  body: z
    .strictObject({
      segmentId: z.uuid().optional(),
      contactIds: z.array(z.uuid()).min(1).max(MAX_CONTACT_IDS).optional(),
      context: jsonObject.optional(),
    })
    .refine((b) => (b.segmentId === undefined) !== (b.contactIds === undefined), { message: 'give exactly one of segmentId or contactIds' }),
  bodyExample: { segmentId: '5b1d6f0e-2c4a-4e8b-9f3d-7a6c5b4e3d2f', context: { campaign: 'spring' } },
  responses: { 202: EnrolmentStarted },
  errors: { 400: ['WORKFLOW_DISABLED'] },
});

export const getEnrolment = endpoint({
  operationId: 'getEnrolment',
  method: 'get',
  path: '/workflows/:id/enrolments/:enrolmentId',
  auth: 'sk',
  tag: 'Executions',
  summary: "An audience enrolment's progress",
  params: { id: pathParam.id('workflow'), enrolmentId: pathParam.id('enrolment') },
  responses: { 200: Enrolment },
});
