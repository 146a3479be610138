/**
 * The image runs Trellis as `npm start` does — the same Node flags, the same compiled main — and
 * the benches start their Trellis processes from `npm start`'s command line (bench/support.ts), so a
 * flag lives in package.json and the Dockerfile only, and both must agree.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '../..');
const start = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts.start!;

/** The Dockerfile's last CMD, in its exec form. */
function imageCommand(): string[] {
  const lines = fs.readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8').split('\n');
  const cmd = lines.filter((l) => l.startsWith('CMD ')).at(-1);
  return JSON.parse(cmd!.slice('CMD '.length)) as string[];
}

describe('the start command', () => {
  it('is the same in the image as in npm start', () => {
    expect(imageCommand()).toEqual(start.split(' '));
    expect(start).toBe('node --no-memory-reducer --heap-growing-percent=100 dist/app/main.js');
  });

  it("passes only flags this Node accepts (a misspelt one stops node before Trellis's code runs)", () => {
    const flags = start.split(' ').slice(1, -1);
    const ran = spawnSync(process.execPath, [...flags, '-e', 'process.stdout.write("ran")'], { encoding: 'utf8' });
    expect(ran.stderr).toBe('');
    expect(ran.stdout).toBe('ran');
    const misspelt = spawnSync(process.execPath, ['--no-memory-reducers', '-e', 'process.stdout.write("ran")'], { encoding: 'utf8' });
    expect(misspelt.stdout).toBe('');
    expect(misspelt.stderr).toContain('bad option');
  });
});
