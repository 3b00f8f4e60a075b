import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from './paths.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * `meshward <args…>` as an operator runs it, from the source (pipeline/cli/main.ts through tsx, no build needed) in
 * its own process at the repository root: its exit code and both streams, a failure included
 */
export function runCliSource(args: string[], opts: { env?: NodeJS.ProcessEnv } = {}): Promise<CliRun> {
  const root = repoRoot();
  return promisify(execFile)(process.execPath, ['--import', 'tsx', join(root, 'pipeline', 'cli', 'main.ts'), ...args], {
    cwd: root,
    ...(opts.env ? { env: opts.env } : {}),
  }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (e: CliRun) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );
}
