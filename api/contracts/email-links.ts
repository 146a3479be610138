/** The public email links (SPEC §8): signed tokens, no key; a token that does not verify answers 404. */
import { endpoint, pathParam } from '../endpoint';

const token = { token: pathParam.token('link') };
const PAGE = { description: 'A small confirmation page.', contentType: 'text/html' };

export const unsubscribe = endpoint({
  operationId: 'unsubscribe',
  method: 'get',
  path: '/unsubscribe/:token',
  auth: 'public',
  tag: 'Email links',
  summary: 'Unsubscribe (the link in marketing emails)',
  params: token,
  responses: { 200: PAGE },
});

export const unsubscribeOneClick = endpoint({
  operationId: 'unsubscribeOneClick',
  method: 'post',
  path: '/unsubscribe/:token',
  auth: 'public',
  tag: 'Email links',
  summary: 'One-click unsubscribe (RFC 8058)',
  description: 'Mail providers POST `List-Unsubscribe=One-Click` as a form; the body is not read.',
  params: token,
  responses: { 200: PAGE },
});

export const subscribe = endpoint({
  operationId: 'subscribe',
  method: 'get',
  path: '/subscribe/:token',
  auth: 'public',
  tag: 'Email links',
  summary: 'Subscribe again',
  params: token,
  responses: { 200: PAGE },
});

export const trackOpen = endpoint({
  operationId: 'trackOpen',
  method: 'get',
  path: '/t/o/:token',
  auth: 'public',
  tag: 'Email links',
  summary: 'Open pixel: records the first open (`email.opened`)',
  params: token,
  responses: { 200: { description: 'A transparent 1×1 GIF.', contentType: 'image/gif' } },
});

export const trackClick = endpoint({
  operationId: 'trackClick',
  method: 'get',
  path: '/t/c/:token',
  auth: 'public',
  tag: 'Email links',
  summary: 'Tracked link: records the first click of each link (`email.clicked`)',
  params: token,
  responses: { 302: { description: 'Redirects to exactly the original URL.', contentType: null, headers: { Location: 'The original URL.' } } },
});
