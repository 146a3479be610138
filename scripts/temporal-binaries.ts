/** Where the Temporal binaries come from (SPEC §11): TEMPORAL_CLI_PATH, PATH, then Python's scripts folder. */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const p = path.join(dir, name);
    if (dir && fs.existsSync(p)) return p;
  }
  return undefined;
}

function pythonScripts(name: string): string | undefined {
  try {
    const dir = execFileSync('python3', ['-c', 'import sysconfig;print(sysconfig.get_path("scripts"))'], { encoding: 'utf8' }).trim();
    const p = path.join(dir, name);
    return fs.existsSync(p) ? p : undefined;
  } catch {
    return undefined;
  }
}

/** Path of a Temporal binary, or undefined when none is installed. */
export function findBinary(name: 'temporal' | 'temporal-test-server', envVar?: string): string | undefined {
  const fromEnv = envVar ? process.env[envVar] : undefined;
  if (fromEnv && fs.existsSync(fromEnv)) return fromEnv;
  return onPath(name) ?? pythonScripts(name);
}
