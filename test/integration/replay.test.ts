import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import type { ExecutionInput } from '../../core/execution';
import { openingWait } from '../../core/graph';
import * as patches from '../../temporal/interpreter/patches';
import { workflowBundle } from '../support/harness';

const DIR = path.resolve('test/fixtures/histories');
const EventType = temporal.api.enums.v1.EventType;
/** The runs scripts/record-histories.ts records in each of its folders. */
const CASES = ['steps', 'delay', 'wait-timeout', 'cancelled', 'failed', 'started'].map((c) => `${c}.history.bin`);
/** The runs recordings since WAIT_UNTIL, exit goals and a webhook's local first attempt also hold (the latest must). */
const NEWER_CASES = ['wait-until', 'goal', 'retried'].map((c) => `${c}.history.bin`);

/** Every fixture, by its path under DIR: the first two (time-skipping server) at the top, then one folder per recording. */
const files = (fs.readdirSync(DIR, { recursive: true }) as string[]).filter((f) => f.endsWith('.history.bin')).sort();
const read = (file: string) => temporal.api.history.v1.History.decode(fs.readFileSync(path.join(DIR, file)));
const folders = [...new Set(files.filter((f) => f.includes(path.sep)).map((f) => path.dirname(f)))];

describe('recorded executions replay on the current interpreter', () => {
  it('has the fixtures of the time-skipping server and at least one full recording on the dev server', () => {
    expect(files).toEqual(expect.arrayContaining(['event-branch.history.bin', 'every-step.history.bin']));
    expect(folders.length).toBeGreaterThan(0);
    const inFolder = (folder: string) => files.filter((f) => path.dirname(f) === folder).map((f) => path.basename(f));
    for (const folder of folders) expect(inFolder(folder)).toEqual(expect.arrayContaining(CASES));
    expect(inFolder(folders.at(-1)!)).toEqual(expect.arrayContaining(NEWER_CASES));
  });

  it('covers, in the latest recording, every step type, the patches, both WAIT_FOR_EVENT outcomes, a cancel, a failure, EXIT, a goal and search-attribute upserts', () => {
    const latest = folders.at(-1)!;
    const history = (name: string) => read(path.join(latest, `${name}.history.bin`)).events;
    const kinds = (name: string) => history(name).map((e) => EventType[e.eventType!]);
    const all = [...CASES, ...NEWER_CASES].flatMap((c) => history(c.replace('.history.bin', '')));
    const activities = all.map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name).filter(Boolean);
    /** The local activities' markers: each one's details, decoded (`data` names the activity, `result` its answer: none when it failed). */
    const localMarkers = (events: typeof all) =>
      events
        .filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity')
        .map((e) => {
          const details = e.markerRecordedEventAttributes!.details!;
          const decode = (key: string) => (details[key] ? JSON.parse(Buffer.from(details[key].payloads![0]!.data!).toString()) : undefined);
          return { type: decode('data').activity_type as string, result: decode('result') };
        });
    // START_WORKFLOW is an activity task, and so is a webhook's call after a first attempt a retry
    // could mend (`retried`)…
    expect(new Set(activities)).toEqual(new Set(['startWorkflow', 'callWebhook']));
    expect(kinds('retried').filter((k) => k === 'EVENT_TYPE_ACTIVITY_TASK_SCHEDULED' || k === 'EVENT_TYPE_TIMER_STARTED')).toEqual([
      'EVENT_TYPE_TIMER_STARTED',
      'EVENT_TYPE_ACTIVITY_TASK_SCHEDULED',
    ]);
    expect(localMarkers(history('retried')).filter((m) => m.type === 'callWebhook')).toEqual([{ type: 'callWebhook', result: undefined }]);
    // …SEND_EMAIL's and WEBHOOK's first attempts, UPDATE_CONTACT, TRIGGER_EVENT, CONDITION, the start of a WAIT_FOR_EVENT,
    // WAIT_UNTIL's planning and the bookkeeping are local activities (markers)…
    expect(new Set(localMarkers(all).map((m) => m.type))).toEqual(
      new Set(['sendEmail', 'callWebhook', 'updateContact', 'triggerEvent', 'evaluateCondition', 'startWait', 'planWaitUntil', 'flushJournal']),
    );
    // …SPLIT pure workflow code (branch `b` here: the `mark` step's UPDATE_CONTACT follows it), DELAY a
    // timer that fires, WAIT_FOR_EVENT a signal or its timer.
    expect(localMarkers(history('steps'))).toContainEqual({
      type: 'updateContact',
      result: { done: true, output: { data: { variant: 'b' }, subscribed: true } },
    });
    // A run of the latest recording applies the patches through the one marker of the newest bundle,
    // first thing, and any later patch by its own (a new patch needs fresh fixtures); the recording
    // made with the bundle before starts with that one's marker; the recording before the first
    // bundle holds each bundled patch's own marker, as runs that began before it ask them.
    const patchIds = (events: typeof all) =>
      events
        .filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_patch')
        .map((e) => JSON.parse(Buffer.from(e.markerRecordedEventAttributes!.details!['patch-data']!.payloads![0]!.data!).toString()).id);
    const [newest, previous] = patches.PATCH_BUNDLES;
    const ids = Object.values(patches).filter((v) => typeof v === 'string');
    const later = ids.filter((id) => !patches.PATCH_BUNDLES.some((b) => b.id === id) && !newest!.holds.includes(id));
    expect(new Set(patchIds(history('steps')))).toEqual(new Set([newest!.id, ...later]));
    for (const c of [...CASES, ...NEWER_CASES]) expect(patchIds(history(c.replace('.history.bin', '')))[0]).toBe(newest!.id);
    expect(patchIds(read(path.join('2026-12-05b', 'steps.history.bin')).events!)[0]).toBe(previous!.id);
    expect(newest!.holds).toEqual([...previous!.holds, patches.OPENED_WAIT]);
    expect(
      history('steps')
        .find((e) => e.markerRecordedEventAttributes)
        ?.eventId?.toString(),
    ).toBe('5');
    const before = read(path.join('2026-12-04b', 'steps.history.bin')).events!;
    expect(new Set(patchIds(before))).toEqual(new Set(patches.EVERY_PATCH_TO_2026_12_HOLDS));
    expect(kinds('steps')).toEqual(expect.arrayContaining(['EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED', 'EVENT_TYPE_TIMER_CANCELED']));
    expect(kinds('steps').at(-1)).toBe('EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED');
    expect(kinds('delay')).toContain('EVENT_TYPE_TIMER_FIRED');
    expect(kinds('wait-timeout')).toContain('EVENT_TYPE_TIMER_FIRED');
    expect(kinds('wait-timeout')).not.toContain('EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED');
    expect(kinds('cancelled')).toContain('EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED');
    expect(kinds('cancelled').at(-1)).toBe('EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED');
    expect(kinds('failed').at(-1)).toBe('EVENT_TYPE_WORKFLOW_EXECUTION_FAILED');
    for (const c of ['steps', 'delay', 'wait-timeout', 'cancelled', 'failed']) expect(kinds(c)).toContain('EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES');
    // EXIT: the run completes with the step's reason; a goal reached in a DELAY cancels its timer.
    const result = (name: string) => Buffer.from(history(name).at(-1)!.workflowExecutionCompletedEventAttributes!.result!.payloads![0]!.data!).toString();
    expect(result('steps')).toBe('{"status":"EXITED","exitReason":"paid"}');
    expect(kinds('goal')).toEqual(expect.arrayContaining(['EVENT_TYPE_TIMER_STARTED', 'EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED', 'EVENT_TYPE_TIMER_CANCELED']));
    expect(result('goal')).toBe('{"status":"EXITED","exitReason":"goal:record.reached"}');
    // WAIT_UNTIL: its instant planned by an activity, then a durable timer that fires.
    expect(kinds('wait-until')).toContain('EVENT_TYPE_TIMER_FIRED');
    expect(result('wait-until')).toBe('{"status":"COMPLETED"}');
    expect(result('retried')).toBe('{"status":"COMPLETED"}');
  });

  it('replays every fixture without nondeterminism', async () => {
    const histories = files.map((file) => ({ workflowId: file, history: read(file) }));
    const failures: string[] = [];
    for await (const result of Worker.runReplayHistories({ workflowBundle: workflowBundle() }, histories)) {
      if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
    }
    expect(failures).toEqual([]);
    expect(histories.length).toBeGreaterThanOrEqual(2 + 2 * CASES.length + NEWER_CASES.length);
  });

  it('replays a run that a worker of the release before began although its input said the wait was open (a rolling deploy)', async () => {
    // The previous release's run that begins in a wait, opened by its own local activity; its input
    // given `openedWait`, as a dispatcher of this code writes it while old workers still poll.
    const history = read(path.join('2026-12-05b', 'wait-timeout.history.bin'));
    const started = history.events![0]!.workflowExecutionStartedEventAttributes!;
    const payload = started.input!.payloads![0]!;
    const input = JSON.parse(Buffer.from(payload.data!).toString()) as ExecutionInput;
    const wait = openingWait(input.graph)!;
    expect(wait).toBeDefined();
    expect(localMarkerTypes(history.events!)).toContain('startWait');
    payload.data = Buffer.from(JSON.stringify({ ...input, openedWait: { stepId: wait.id, startedAt: new Date(0).toISOString() } }));
    const failures: string[] = [];
    for await (const result of Worker.runReplayHistories({ workflowBundle: workflowBundle() }, [{ workflowId: 'rolling-deploy', history }])) {
      if (result.error) failures.push(result.error.message);
    }
    expect(failures).toEqual([]);
  });
});

/** The activity types of a history's local activity markers. */
function localMarkerTypes(events: temporal.api.history.v1.IHistoryEvent[]): string[] {
  return events
    .filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity')
    .map((e) => JSON.parse(Buffer.from(e.markerRecordedEventAttributes!.details!.data!.payloads![0]!.data!).toString()).activity_type);
}
