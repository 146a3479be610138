/** The interpreter loop: find the step, run its handler, follow the transition — until none is left. */
import { ApplicationFailure, CancellationScope, ContinueAsNew, isCancellation, log, setCurrentDetails } from '@temporalio/workflow';
import type { GraphStep, GraphStepOf, StepType } from '../../core/graph';
import type { ExecutionResult, StepRecord } from '../../core/execution';
import { enterStatus, ExecutionInactive, flush, showStatus, type HandlerEnv, type StepHandler, type StepOutcome } from './handler';
import type { ExecutionState } from './state';
import { nextStepId, triggerStep } from './transitions';
import { conditionStep } from './steps/condition';
import { delay } from './steps/delay';
import { exit } from './steps/exit';
import { sendEmail } from './steps/send-email';
import { split } from './steps/split';
import { startWorkflow } from './steps/start-workflow';
import { triggerEvent } from './steps/trigger-event';
import { sendSms } from './steps/send-sms';
import { updateContact } from './steps/update-contact';
import { waitForEvent } from './steps/wait-for-event';
import { waitUntil } from './steps/wait-until';
import { webhook } from './steps/webhook';

type WorkStepType = Exclude<StepType, 'TRIGGER'>;

const handlers: { [T in WorkStepType]: StepHandler<T> } = {
  SEND_EMAIL: sendEmail,
  DELAY: delay,
  WAIT_FOR_EVENT: waitForEvent,
  CONDITION: conditionStep,
  WEBHOOK: webhook,
  UPDATE_CONTACT: updateContact,
  EXIT: exit,
  SPLIT: split,
  TRIGGER_EVENT: triggerEvent,
  START_WORKFLOW: startWorkflow,
  WAIT_UNTIL: waitUntil,
  SEND_SMS: sendSms,
};

/** Runs the handler of the step's own type. */
function runHandler<T extends WorkStepType>(step: GraphStepOf<T>, visit: StepRecord, state: ExecutionState, env: HandlerEnv): Promise<StepOutcome> {
  const handler: StepHandler<T> = handlers[step.type];
  return handler(step, visit, state, env);
}

/** Step types whose successor does not depend on the outcome, so their activity can also close the execution. */
const STATIC_SUCCESSOR: ReadonlySet<StepType> = new Set(['SEND_EMAIL', 'SEND_SMS', 'WEBHOOK', 'UPDATE_CONTACT', 'TRIGGER_EVENT', 'START_WORKFLOW']);

/** Runs the execution's graph from its TRIGGER step to the end. */
export async function runExecution(state: ExecutionState): Promise<ExecutionResult> {
  const graph = state.input.graph;
  const steps = new Map(graph.steps.map((s) => [s.id, s]));
  const trigger = triggerStep(graph);
  // A run that continued as new goes on with the step it was in.
  let stepId = state.resumeStepId ?? (trigger ? nextStepId(graph, trigger.id) : undefined);

  // One scope for the steps, so that a goal reached mid-step aborts the step's timer, wait or
  // activity; the writes that follow the last step, and a failure's, run outside it.
  const scope = new CancellationScope();
  state.stepsScope = scope;
  let step: GraphStep | undefined;
  try {
    const ended = await scope.run(async (): Promise<ExecutionResult | undefined> => {
      while (stepId !== undefined) {
        if (state.exitReason !== undefined) return reachedGoal(state);
        step = undefined;
        const found = steps.get(stepId);
        if (!found || found.type === 'TRIGGER') throw ApplicationFailure.nonRetryable(`graph has no step ${stepId}`, 'InvalidGraph');
        step = found;
        const visit = state.visit(step);
        setCurrentDetails(`**${step.name}** (${step.type}) — step ${visit.seq}`);
        const last = STATIC_SUCCESSOR.has(step.type) && nextStepId(graph, step.id) === undefined;
        const outcome = await runHandler(step, visit, state, last ? { after: { status: 'COMPLETED', completed: true } } : {});
        if (outcome.exitReason !== undefined) return { status: 'EXITED', exitReason: outcome.exitReason };
        if (outcome.finished) {
          showStatus('COMPLETED');
          return { status: 'COMPLETED' };
        }
        stepId = nextStepId(graph, step.id, outcome.branch);
      }
      return undefined;
    });
    if (ended) return ended;
  } catch (err) {
    if (state.exitReason !== undefined && (isCancellation(err) || err instanceof ExecutionInactive)) return reachedGoal(state);
    if (!step || isCancellation(err) || err instanceof ExecutionInactive || err instanceof ContinueAsNew) throw err;
    return await failExecution(state, step, err);
  } finally {
    state.stepsScope = undefined;
  }

  state.patch({ status: 'COMPLETED', completed: true });
  showStatus('COMPLETED');
  await flush(state);
  return { status: 'COMPLETED' };
}

/**
 * Ends the run EXITED with the goal's reason. The transaction that reached the goal already recorded
 * the execution EXITED and its open step CANCELLED in Postgres; Temporal's run completes with it.
 */
export function reachedGoal(state: ExecutionState): ExecutionResult {
  showStatus('EXITED');
  return { status: 'EXITED', exitReason: state.exitReason };
}

/** Records the step and the execution FAILED, then fails the Temporal workflow naming the step. */
async function failExecution(state: ExecutionState, step: GraphStep, err: unknown): Promise<never> {
  const reason = failureMessage(err);
  const message = `step "${step.name}" (${step.type}) failed: ${reason}`;
  if (state.current) state.record(state.current, 'FAILED', { error: reason });
  enterStatus(state, 'FAILED', step.id, { error: message, completed: true });
  await flush(state);
  // Through the SDK's logger sink (no command, not repeated on replay) into the worker's JSON log.
  log.warn('execution failed', { executionId: state.executionId, stepId: step.id, stepType: step.type, reason });
  throw ApplicationFailure.nonRetryable(message, 'StepFailed');
}

/** The innermost message of an activity failure (the activity's own error), else the error's message. */
function failureMessage(err: unknown): string {
  let e: unknown = err;
  while (e instanceof Error && (e as { cause?: unknown }).cause instanceof Error) e = (e as { cause?: unknown }).cause;
  return e instanceof Error ? e.message : String(err);
}
