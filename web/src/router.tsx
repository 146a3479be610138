/** A small history router for the app's few pages, all under /app. */
import { type AnchorHTMLAttributes, type MouseEvent, useEffect, useState } from 'react';

const CHANGE = 'trellis:navigate';

/** Goes to `path` (under /app) without reloading the page. */
export function navigate(path: string): void {
  window.history.pushState(null, '', path);
  window.dispatchEvent(new Event(CHANGE));
}

/** The current path, kept current on navigation and on back/forward. */
export function usePath(): string {
  const [path, setPath] = useState(window.location.pathname);
  useEffect(() => {
    const update = () => setPath(window.location.pathname);
    window.addEventListener('popstate', update);
    window.addEventListener(CHANGE, update);
    return () => {
      window.removeEventListener('popstate', update);
      window.removeEventListener(CHANGE, update);
    };
  }, []);
  return path;
}

/** A link that navigates in place (a modified click still opens a new tab). */
export function Link({ href, onClick, ...props }: AnchorHTMLAttributes<HTMLAnchorElement> & { href: string }) {
  const follow = (event: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(event);
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(href);
  };
  return <a href={href} onClick={follow} {...props} />;
}

export type Route =
  | { page: 'workflows' }
  | { page: 'workflow'; workflowId: string }
  | { page: 'execution'; workflowId: string; executionId: string }
  | { page: 'template'; templateId: string }
  | { page: 'contact'; contactId: string }
  | { page: 'not-found' };

/** Which page a path shows. */
export function routeOf(path: string): Route {
  const parts = path.replace(/\/+$/, '').split('/').filter(Boolean).map(decodeURIComponent);
  if (parts[0] !== 'app') return { page: 'not-found' };
  if (parts.length === 1 || (parts.length === 2 && parts[1] === 'workflows')) return { page: 'workflows' };
  if (parts[1] === 'workflows' && parts.length === 3) return { page: 'workflow', workflowId: parts[2]! };
  if (parts[1] === 'workflows' && parts[3] === 'executions' && parts.length === 5) return { page: 'execution', workflowId: parts[2]!, executionId: parts[4]! };
  if (parts[1] === 'templates' && parts.length === 3) return { page: 'template', templateId: parts[2]! };
  if (parts[1] === 'contacts' && parts.length === 3) return { page: 'contact', contactId: parts[2]! };
  return { page: 'not-found' };
}
