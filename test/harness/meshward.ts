import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { repoRoot } from './paths.js';
import { type Child, spawnNode } from './processes.js';

/** the built CLI; `npm test` builds before running the suite */
export function cliPath(): string {
  const p = join(repoRoot(), 'dist', 'pipeline', 'cli', 'main.js');
  if (!existsSync(p)) throw new Error(`${p} is missing: run "npm run build" first (npm test does it)`);
  return p;
}

/** writes a config document to a fresh temp dir; returns its path */
export function writeConfig(doc: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), 'meshward-cfg-'));
  const file = join(dir, 'meshward.yaml');
  writeFileSync(file, stringify(doc));
  return file;
}

const READY: Record<string, RegExp> = {
  collector: /collector listening on (\S+)/,
  correlator: /correlator started/,
  api: /analyst API listening on (\S+)/,
  start: /analyst API(?: and console)?:\s+(\S+)/,
  actions: /decisions API listening on (\S+)/,
};

/** runs `meshward <role> -c <config>` and waits until it says it is ready */
export async function startRole(
  role: keyof typeof READY,
  config: string,
  extraArgs: string[] = [],
  env: Record<string, string> = {},
): Promise<{ child: Child; url?: string }> {
  const child = spawnNode(cliPath(), {
    args: [role, '-c', config, ...extraArgs],
    name: `meshward-${role}`,
    env: { MESHWARD_LOG_LEVEL: 'warn', ...env },
  });
  const m = await child.waitForLine(READY[role], { timeoutMs: 30_000 });
  return { child, url: m[1]?.replace(/\/$/, '') };
}
