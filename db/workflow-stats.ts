/** Where a workflow's contacts are: per-step and per-status counts (SPEC §5.3 `/stats`, `/diagram`). */
import { sql } from 'drizzle-orm';
import { EXECUTION_STATUSES } from '../core/statuses';
import type { Tx } from './client';

export interface StepStats {
  stepId: string;
  active: number;
  entered: number;
  completed: number;
  failed: number;
  exited: number;
  branches?: Record<string, number>;
}

export interface WorkflowStats {
  executions: Record<(typeof EXECUTION_STATUSES)[number], number> & { total: number };
  /** Executions that ended EXITED with a `goal:` reason. */
  conversions: number;
  steps: StepStats[];
}

const BRANCHING = new Set(['CONDITION', 'WAIT_FOR_EVENT', 'SPLIT']);

/**
 * Counts for every step of the workflow's current graph. `entered`, `completed` and `failed` count
 * visits (step records); `active` counts executions RUNNING or WAITING on the step now; `exited`
 * counts executions that ended EXITED on it. Two grouped queries, over the workflow's executions.
 */
export async function workflowStats(tx: Tx, workflowId: string, stepRows: { id: string; type: string }[]): Promise<WorkflowStats> {
  const byExecution = await tx.execute<{ step_id: string | null; status: string; goal: boolean; n: number }>(sql`
    select current_step_id as step_id, status, coalesce(exit_reason like 'goal:%', false) as goal, count(*)::int as n
    from executions where workflow_id = ${workflowId}
    group by 1, 2, 3`);
  const byVisit = await tx.execute<{ step_id: string; status: string; branch: string | null; n: number }>(sql`
    select se.step_id, se.status,
      coalesce(se.output->>'branch', se.output->>'outcome',
        case se.output->>'result' when 'true' then 'yes' when 'false' then 'no' end) as branch,
      count(*)::int as n
    from step_executions se join executions e on e.id = se.execution_id
    where e.workflow_id = ${workflowId}
    group by 1, 2, 3`);

  const executions = Object.fromEntries([...EXECUTION_STATUSES, 'total'].map((s) => [s, 0])) as WorkflowStats['executions'];
  let conversions = 0;
  const steps = new Map<string, StepStats>(
    stepRows.map((s) => [
      s.id,
      { stepId: s.id, active: 0, entered: 0, completed: 0, failed: 0, exited: 0, ...(BRANCHING.has(s.type) ? { branches: {} } : {}) },
    ]),
  );
  for (const row of byExecution.rows) {
    executions[row.status as keyof typeof executions] += row.n;
    executions.total += row.n;
    if (row.status === 'EXITED' && row.goal) conversions += row.n;
    const step = row.step_id ? steps.get(row.step_id) : undefined;
    if (!step) continue;
    if (row.status === 'RUNNING' || row.status === 'WAITING') step.active += row.n;
    if (row.status === 'EXITED') step.exited += row.n;
  }
  for (const row of byVisit.rows) {
    const step = steps.get(row.step_id);
    if (!step) continue;
    step.entered += row.n;
    if (row.status === 'COMPLETED') step.completed += row.n;
    if (row.status === 'FAILED') step.failed += row.n;
    if (step.branches && row.status === 'COMPLETED' && row.branch !== null) step.branches[row.branch] = (step.branches[row.branch] ?? 0) + row.n;
  }
  return { executions, conversions, steps: [...steps.values()] };
}
