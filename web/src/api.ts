/**
 * The app talks to the API through the typed client (api/client.ts), built from the same endpoint
 * declarations the server answers by: a renamed field or route breaks the app's type check.
 */
import { createContext, useContext, useEffect, useRef } from 'react';
import { createClient, TrellisApiError, type TrellisClient } from '../../api/client';
import type { ResponseOf } from '../../api/endpoint';
import type { Endpoints } from '../../api/contracts';

export { TrellisApiError };
export type Client = TrellisClient;

export type WorkflowWithGraph = ResponseOf<Endpoints['getWorkflow']>;
export type Workflow = ResponseOf<Endpoints['updateWorkflow']>;
export type Step = WorkflowWithGraph['steps'][number];
export type Transition = WorkflowWithGraph['transitions'][number];
export type StepType = Step['type'];
export type WorkflowStats = ResponseOf<Endpoints['getWorkflowStats']>;
export type ExecutionWithSteps = ResponseOf<Endpoints['getExecution']>;
export type Execution = ResponseOf<Endpoints['listExecutions']>['data'][number];
export type Template = ResponseOf<Endpoints['getTemplate']>;
export type ExecutionGraph = ResponseOf<Endpoints['getExecutionGraph']>;
export type Contact = ResponseOf<Endpoints['getContact']>;

/** A client for this origin with the signed-in key. */
export function clientFor(key: string): Client {
  return createClient({ baseUrl: window.location.origin, key });
}

export const ClientContext = createContext<Client | null>(null);

/** The signed-in client (pages render only once signed in). */
export function useClient(): Client {
  const client = useContext(ClientContext);
  if (!client) throw new Error('useClient outside a signed-in page');
  return client;
}

/** One field's error from a 400 answer: `{path, message}` (SPEC §10). */
export interface FieldError {
  path: string;
  message: string;
}

/** The field errors of a VALIDATION_ERROR, else none. */
export function fieldErrors(err: unknown): FieldError[] {
  if (!(err instanceof TrellisApiError) || !Array.isArray(err.details)) return [];
  return (err.details as unknown[]).filter(
    (d): d is FieldError => typeof d === 'object' && d !== null && typeof (d as FieldError).path === 'string' && typeof (d as FieldError).message === 'string',
  );
}

/** A sentence for an error: the API's message, or what went wrong on the way. */
export function messageOf(err: unknown): string {
  if (err instanceof TrellisApiError) return err.message.replace(/^\d+ [A-Z_]+: /, '');
  return err instanceof Error ? err.message : String(err);
}

/** Active executions (RUNNING or WAITING) in a workflow's stats. */
export function activeCount(stats: WorkflowStats | undefined): number {
  if (!stats) return 0;
  const byStatus = stats.executions as Record<string, number>;
  return (byStatus.RUNNING ?? 0) + (byStatus.WAITING ?? 0);
}

/**
 * Calls `load` now and every `ms` while `active` and the tab is visible (and at once when it becomes
 * visible again): live counts and a run in flight stay current without a reload.
 */
export function usePolling(load: () => Promise<void>, ms: number, active = true): void {
  const latest = useRef(load);
  latest.current = load;
  useEffect(() => {
    void load();
  }, [load]);
  useEffect(() => {
    if (!active) return;
    const tick = () => {
      if (document.visibilityState === 'visible') void latest.current();
    };
    const timer = window.setInterval(tick, ms);
    document.addEventListener('visibilitychange', tick);
    return () => {
      window.clearInterval(timer);
      document.removeEventListener('visibilitychange', tick);
    };
  }, [ms, active]);
}
