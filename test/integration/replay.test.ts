import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { workflowBundle } from '../support/harness';

const DIR = path.resolve('test/fixtures/histories');

describe('recorded executions replay on the current interpreter', () => {
  const files = fs.readdirSync(DIR).filter((f) => f.endsWith('.history.bin'));

  it('has the recorded fixtures', () => {
    expect(files).toEqual(expect.arrayContaining(['event-branch.history.bin', 'every-step.history.bin']));
  });

  it.each(files)('%s replays without nondeterminism', async (file) => {
    const history = temporal.api.history.v1.History.decode(fs.readFileSync(path.join(DIR, file)));
    expect(history.events.length).toBeGreaterThan(10);
    const result = await Worker.runReplayHistory({ workflowBundle: workflowBundle() }, history, file);
    expect(result).toBeUndefined();
  });
});
