/** Typed keys of the custom search attributes that make executions findable in the Web UI (SPEC §11). */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { SEARCH_ATTRIBUTES } from '../core/execution';

export const workflowIdKey = defineSearchAttributeKey(SEARCH_ATTRIBUTES.workflowId, SearchAttributeType.KEYWORD);
export const contactIdKey = defineSearchAttributeKey(SEARCH_ATTRIBUTES.contactId, SearchAttributeType.KEYWORD);
export const contactEmailKey = defineSearchAttributeKey(SEARCH_ATTRIBUTES.contactEmail, SearchAttributeType.KEYWORD);
export const statusKey = defineSearchAttributeKey(SEARCH_ATTRIBUTES.status, SearchAttributeType.KEYWORD);
export const projectIdKey = defineSearchAttributeKey(SEARCH_ATTRIBUTES.projectId, SearchAttributeType.KEYWORD);
/** Set by Temporal on every run a Schedule starts: the tick's scheduled time. */
export const scheduledStartTimeKey = defineSearchAttributeKey('TemporalScheduledStartTime', SearchAttributeType.DATETIME);
