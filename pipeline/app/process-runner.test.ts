import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import '../detectors/all.js';
import { runProcess } from './process-runner.js';

class Exit extends Error {}

describe('a process refuses a bad policy file before any role starts', () => {
  afterEach(() => vi.restoreAllMocks());

  const configWith = (policyFile: string) => {
    const dir = mkdtempSync(join(tmpdir(), 'meshward-runner-'));
    const file = join(dir, 'meshward.yaml');
    writeFileSync(file, `data_dir: ${join(dir, 'data')}\nactions: { policy_file: ${policyFile} }\n`);
    return { dir, file };
  };

  const run = async (config: string, actions: boolean) => {
    const exit = vi.spyOn(process, 'exit').mockImplementation(() => {
      throw new Exit();
    });
    let stderr = '';
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      stderr += String(chunk);
      return true;
    });
    const start = vi.fn(async () => []);
    await runProcess('test', { config, actions }, start).catch((err) => {
      if (!(err instanceof Exit)) throw err;
    });
    return { exit, start, stderr };
  };

  it('a missing or invalid policy file: exit 2 with the code and the file, nothing started, no stack trace', async () => {
    const { dir, file } = configWith('/nonexistent/policy.yaml');
    const missing = await run(file, true);
    expect(missing.exit).toHaveBeenCalledWith(2);
    expect(missing.start).not.toHaveBeenCalled();
    expect(missing.stderr).toBe(
      "meshward: MW_ERR_POLICY_INVALID: policy file is invalid: cannot read /nonexistent/policy.yaml: ENOENT: no such file or directory, open '/nonexistent/policy.yaml'\n",
    );

    const policy = join(dir, 'policy.yaml');
    writeFileSync(policy, 'rules:\n  - name: r\n    match: {}\n    action: { type: deny, ttl: soon }\n');
    const bad = await run(configWith(policy).file, true);
    expect(bad.start).not.toHaveBeenCalled();
    expect(bad.stderr).toMatch(`MW_ERR_POLICY_INVALID: policy file is invalid: ${policy}: rules.0.action.ttl: `);
  });
});
