/** /admin/projects: projects and their keys, behind ADMIN_API_KEY (SPEC §4). */
import { z } from 'zod';
import { endpoint } from '../endpoint';
import { pagination } from '../schemas/common';
import { ProjectPage, ProjectWithKeys } from '../schemas/resources';

export const createProject = endpoint({
  operationId: 'createProject',
  method: 'post',
  path: '/admin/projects',
  auth: 'admin',
  tag: 'Admin',
  summary: 'Create a project and its keys',
  description: 'The secret key is shown only in this answer. Without ADMIN_API_KEY the admin routes answer 404.',
  body: z.strictObject({ name: z.string().trim().min(1).max(200) }),
  bodyExample: { name: 'Acme' },
  responses: { 201: ProjectWithKeys },
});

export const listProjects = endpoint({
  operationId: 'listProjects',
  method: 'get',
  path: '/admin/projects',
  auth: 'admin',
  tag: 'Admin',
  summary: 'List projects (without secret keys)',
  query: z.object(pagination),
  responses: { 200: ProjectPage },
});
