/**
 * CONDITION's outcome, computed in an activity so that it is recorded in the history: the filter code
 * (core/filter.ts) is shared with segments and the API, and a later fix there must not change the
 * branch a replaying run takes. The run replays the recorded result, not the code.
 */
import type { Journal } from '../core/execution';
import { evaluateFilter, type Filter } from '../core/filter';
import { bookkeepingActivities } from './bookkeeping';
import type { ActivityDeps } from './deps';

export function conditionActivities(deps: ActivityDeps) {
  const { loadContact } = bookkeepingActivities(deps);
  return {
    /**
     * Writes the queued bookkeeping, loads the contact's fresh data and evaluates the CONDITION's filter
     * over it and the context at the workflow's time `now`; null once the execution is inactive.
     */
    async evaluateCondition(req: {
      executionId: string;
      journal: Journal;
      currentStepId: string;
      filter: Filter;
      context: Record<string, unknown>;
      now: number;
    }): Promise<{ result: boolean } | null> {
      const contact = await loadContact(req);
      if (!contact) return null;
      return { result: evaluateFilter(req.filter, { contact, event: req.context }, req.now) };
    },
  };
}
