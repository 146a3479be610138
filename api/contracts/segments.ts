/** /segments (SPEC §5.7): named audiences over the filter language of §7.5. */
import { z } from 'zod';
import { filterSchema } from '../../core/filter-schema';
import { SEGMENT_SLUG } from '../../core/segment';
import { endpoint, pathParam } from '../endpoint';
import { pagination } from '../schemas/common';
import { ContactPage, Segment, SegmentPage } from '../schemas/resources';

const fields = {
  name: z.string().trim().min(1).max(200),
  slug: z.string().regex(SEGMENT_SLUG, 'must be 1 to 64 of a-z, 0-9, "_" and "-", starting with a letter or digit'),
  filter: filterSchema,
  trackMembership: z.boolean(),
};
const segmentId = { id: pathParam.id('segment') };
const TAG = 'Segments';

export const createSegment = endpoint({
  operationId: 'createSegment',
  method: 'post',
  path: '/segments',
  auth: 'sk',
  tag: TAG,
  summary: 'Create a segment',
  description:
    'Answers at once with `computing: true`; its members are computed in the background. `event.*` fields are refused. The slug defaults to one made from the name.',
  body: z.strictObject({ ...fields, slug: fields.slug.optional(), trackMembership: fields.trackMembership.optional() }),
  bodyExample: { name: 'Active users', filter: { field: 'data.plan', operator: 'equals', value: 'pro' }, trackMembership: true },
  responses: { 201: Segment },
  errors: { 409: ['CONFLICT'] },
});

export const listSegments = endpoint({
  operationId: 'listSegments',
  method: 'get',
  path: '/segments',
  auth: 'sk',
  tag: TAG,
  summary: 'List segments',
  query: z.object(pagination),
  responses: { 200: SegmentPage },
});

export const getSegment = endpoint({
  operationId: 'getSegment',
  method: 'get',
  path: '/segments/:id',
  auth: 'sk',
  tag: TAG,
  summary: 'Get a segment',
  params: segmentId,
  responses: { 200: Segment },
});

export const updateSegment = endpoint({
  operationId: 'updateSegment',
  method: 'patch',
  path: '/segments/:id',
  auth: 'sk',
  tag: TAG,
  summary: 'Update a segment',
  description: 'A new filter starts a new computation of the members.',
  params: segmentId,
  body: z.strictObject({
    name: fields.name.optional(),
    slug: fields.slug.optional(),
    filter: fields.filter.optional(),
    trackMembership: fields.trackMembership.optional(),
  }),
  bodyExample: { trackMembership: false },
  responses: { 200: Segment },
  errors: { 409: ['CONFLICT'] },
});

export const deleteSegment = endpoint({
  operationId: 'deleteSegment',
  method: 'delete',
  path: '/segments/:id',
  auth: 'sk',
  tag: TAG,
  summary: 'Delete a segment',
  description: 'Refused (409) while a SCHEDULE workflow enrols its members.',
  params: segmentId,
  responses: { 204: null },
  errors: { 409: ['CONFLICT'] },
});

export const listSegmentContacts = endpoint({
  operationId: 'listSegmentContacts',
  method: 'get',
  path: '/segments/:id/contacts',
  auth: 'sk',
  tag: TAG,
  summary: "List a segment's members",
  params: segmentId,
  query: z.object(pagination),
  responses: { 200: ContactPage },
});
