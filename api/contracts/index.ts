/** Every endpoint of the API, by operationId: what the document, the route check and the client walk. */
import * as contacts from './contacts';
import * as emailLinks from './email-links';
import * as enrolments from './enrolments';
import * as executionGraph from './execution-graph';
import * as executionPurges from './execution-purges';
import * as executions from './executions';
import * as graph from './graph';
import * as messages from './messages';
import * as projects from './projects';
import * as records from './records';
import * as segments from './segments';
import * as settings from './settings';
import * as system from './system';
import * as templateDrafts from './template-drafts';
import * as templates from './templates';
import * as track from './track';
import * as workflowDocuments from './workflow-documents';
import * as workflowTemplates from './workflow-templates';
import * as workflows from './workflows';

export const endpoints = {
  ...system,
  ...projects,
  ...track,
  ...contacts,
  ...templates,
  ...templateDrafts,
  ...workflows,
  ...graph,
  ...executions,
  ...executionGraph,
  ...enrolments,
  ...executionPurges,
  ...records,
  ...messages,
  ...segments,
  ...settings,
  ...workflowDocuments,
  ...workflowTemplates,
  ...emailLinks,
};

export type Endpoints = typeof endpoints;
