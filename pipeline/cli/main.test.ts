import { runCliSource } from '../../test/harness/cli-source.js';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AlertRepository } from '../alerts/alert-repository.js';
import { alertRoutes } from '../api/alert-routes.js';
import { createApiServer } from '../api/api-server.js';
import { ApiAuthenticator } from '../api/auth.js';
import { MAX_SECRET_FILE_BYTES } from '../config/secret-file.js';
import { failureLine } from '../core/failure-line.js';
import { silentLogger } from '../core/logger.js';
import { MemoryStore } from '../store/memory-store.js';
import { meshwardProgram } from './program.js';

const root = join(import.meta.dirname, '..', '..');
const policy = join(root, 'policy-actions', 'engine', 'testdata', 'policy.yaml');
const catalog = join(root, 'deploy', 'demo', 'catalog.jsonl');

const dir = mkdtempSync(join(tmpdir(), 'mw-cli-files-'));
const missing = join(dir, 'missing.jsonl');
const folder = join(dir, 'a-folder');
mkdirSync(folder);
const nowhere = join(dir, 'no-such-folder', 'out.jsonl');
const records = join(dir, 'records.jsonl');
writeFileSync(records, '');
const alerts = join(dir, 'alerts.jsonl');
writeFileSync(alerts, '');
const badYaml = join(dir, 'bad.yaml');
writeFileSync(badYaml, 'rules: [\n');
const out = join(dir, 'out.jsonl');

/** the line `meshward <args…>` ends with on stderr when it fails, from the program main.ts runs */
async function failure(args: string[]): Promise<string> {
  const err = await meshwardProgram()
    .exitOverride()
    .parseAsync(args, { from: 'user' })
    .then(
      () => undefined,
      (e: unknown) => e,
    );
  expect(err, args.join(' ')).toBeDefined();
  return failureLine(err);
}

const enoent = (path: string) => `ENOENT: no such file or directory, open '${path}'`;
const unreadable = (path: string, why: string) =>
  `meshward: MW_ERR_FILE_UNREADABLE: a file cannot be read: cannot read ${path}: ${why}`;
const unwritable = (path: string) =>
  `meshward: MW_ERR_FILE_UNWRITABLE: a file cannot be written: cannot write ${path}: ${enoent(path)}`;
const EISDIR = 'EISDIR: illegal operation on a directory, read';

describe('a command that cannot read or write its files says so in one line with a stable code', () => {
  it('names the file and what is wrong with it, for every offline command', async () => {
    const cases: [string[], string][] = [
      [['policy', 'test', '--policy', policy, '--alerts', missing], unreadable(missing, enoent(missing))],
      [['policy', 'test', '--policy', policy, '--alerts', folder], unreadable(folder, EISDIR)],
      [['policy', 'test', '--policy', policy, '--alerts', alerts, '-o', nowhere], unwritable(nowhere)],
      [
        ['policy', 'test', '--policy', missing, '--alerts', alerts],
        `meshward: MW_ERR_POLICY_INVALID: policy file is invalid: cannot read ${missing}: ${enoent(missing)}`,
      ],
      [['replay', missing, '-o', out], unreadable(missing, enoent(missing))],
      [['replay', folder, '-o', out], unreadable(folder, EISDIR)],
      [['replay', records, '-o', nowhere], unwritable(nowhere)],
      [['simulate', '-o', nowhere, '--minutes', '1'], unwritable(nowhere)],
      [['simulate', '-o', out, '--labels', nowhere, '--minutes', '1'], unwritable(nowhere)],
      [
        ['associate', '--catalog', missing, '--apis', catalog],
        `meshward: MW_ERR_CATALOG_INVALID: catalogue document is invalid: ${missing}: cannot read (ENOENT)`,
      ],
      [
        ['associate', '--catalog', folder, '--apis', catalog],
        `meshward: MW_ERR_CATALOG_INVALID: catalogue document is invalid: ${folder}: cannot read (EISDIR)`,
      ],
      [
        ['associate', '--catalog', catalog, '--apis', missing],
        `meshward: MW_ERR_CATALOG_INVALID: catalogue document is invalid: ${missing}: cannot read (ENOENT)`,
      ],
      [['associate', '--catalog', catalog, '--apis', catalog, '-o', nowhere], unwritable(nowhere)],
      // an invalid YAML file: what and where in one line, not yaml's quote of the lines around it
      [
        ['replay', records, '-o', out, '-c', badYaml],
        `meshward: MW_ERR_CONFIG_INVALID: configuration is invalid: ${badYaml} is not valid YAML: Flow sequence in block collection must be sufficiently indented and end with a ] at line 2, column 1`,
      ],
      [
        ['policy', 'test', '--policy', badYaml, '--alerts', alerts],
        `meshward: MW_ERR_POLICY_INVALID: policy file is invalid: ${badYaml}: not valid YAML: Flow sequence in block collection must be sufficiently indented and end with a ] at line 2, column 1`,
      ],
      // an argument an action refuses
      [
        ['simulate', '-o', out, '--start', 'yesterday'],
        'meshward: MW_ERR_BAD_REQUEST: bad request: --start must be an ISO timestamp',
      ],
    ];
    for (const [args, line] of cases) expect(await failure(args), args.join(' ')).toBe(line);
  }, 60_000);

  it('the real entry point: exit 2, the one line on stderr, nothing else (no stack trace)', async () => {
    const run = (args: string[]) => runCliSource(args);
    const [alertsMissing, catalogMissing] = await Promise.all([
      run(['policy', 'test', '--policy', policy, '--alerts', missing]),
      run(['associate', '--catalog', missing, '--apis', catalog]),
    ]);
    expect(alertsMissing).toEqual({ code: 2, stdout: '', stderr: `${unreadable(missing, enoent(missing))}\n` });
    expect(catalogMissing).toEqual({
      code: 2,
      stdout: '',
      stderr: `meshward: MW_ERR_CATALOG_INVALID: catalogue document is invalid: ${missing}: cannot read (ENOENT)\n`,
    });
  }, 60_000);

  it('the real entry point: a reader that closes the pipe early ends the command quietly (exit 0, no stack trace)', async () => {
    const args = ['--import', 'tsx', join(root, 'pipeline', 'cli', 'main.ts'), 'policy', 'test'];
    const child = spawn(process.execPath, [...args, '--policy', policy, '--alerts', alerts], { cwd: root });
    // as `| head` does once it has its lines: the read end closes before the command writes its table
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const code = await new Promise<number | null>((done) => child.on('close', done));
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
  }, 60_000);

  it('words any failure in one line with a code', () => {
    expect(failureLine(new Error('first\n  second'))).toBe('meshward: MW_ERR_INTERNAL: internal error: first second');
    expect(failureLine('thrown text')).toBe('meshward: MW_ERR_INTERNAL: internal error: thrown text');
    const inUse = Object.assign(new Error('listen EADDRINUSE: address already in use 127.0.0.1:7070'), {
      syscall: 'listen',
      address: '127.0.0.1',
      port: 7070,
    });
    expect(failureLine(inUse)).toBe(
      'meshward: MW_ERR_CONFIG_INVALID: configuration is invalid: cannot listen on 127.0.0.1:7070: listen EADDRINUSE: address already in use 127.0.0.1:7070',
    );
    const denied = Object.assign(new Error("EACCES: permission denied, open '/etc/secret'"), {
      syscall: 'open',
      path: '/etc/secret',
    });
    expect(failureLine(denied)).toBe(unreadable('/etc/secret', "EACCES: permission denied, open '/etc/secret'"));
    expect(failureLine(denied, 'CONFIG_INVALID')).toBe(
      "meshward: MW_ERR_CONFIG_INVALID: configuration is invalid: cannot read /etc/secret: EACCES: permission denied, open '/etc/secret'",
    );
  });
});

describe('meshward --key-file reads the analyst key as every secret file is read', () => {
  it('trimmed of the whitespace around it; an empty, missing or oversized file refused naming it, through the real entry point', async () => {
    const key = 'responder-key-0123456789';
    const app = await createApiServer({
      auth: new ApiAuthenticator([{ name: 'ray', key, role: 'responder' }]),
      logger: silentLogger,
      health: () => ({ store: true }),
      plugins: [alertRoutes({ alerts: new AlertRepository(new MemoryStore()) })],
    });
    const api = await app.listen({ host: '127.0.0.1', port: 0 });
    const file = (name: string, content: string) => {
      const f = join(dir, name);
      writeFileSync(f, content);
      return f;
    };
    const padded = file('key-padded', `\n  ${key}\t\n\n`);
    const empty = file('key-empty', ' \n');
    const huge = file('key-huge', `${'x'.repeat(MAX_SECRET_FILE_BYTES)}\n`);
    const absent = join(dir, 'key-absent');
    // the child gets no key from this process's environment, only the one a case gives it
    const { MESHWARD_API_KEY: _, ...env } = process.env;
    const run = (keyFile: string, extraEnv: Record<string, string> = {}) =>
      runCliSource(['alerts', 'list', '--api', api, '--key-file', keyFile], { env: { ...env, ...extraEnv } });
    try {
      const [ok, emptied, tooLarge, missingKey] = await Promise.all([
        run(padded),
        // an empty key file is a mistake to see, not a reason to fall back on the environment's key
        run(empty, { MESHWARD_API_KEY: key }),
        run(huge),
        run(absent),
      ]);
      expect(ok.stderr).toBe('');
      expect(ok.code).toBe(0);
      expect(ok.stdout).toMatch(/^ID\s+SEVERITY\s+KIND/);
      const refused = (why: string) => ({
        code: 2,
        stdout: '',
        stderr: `meshward: MW_ERR_CONFIG_INVALID: configuration is invalid: --key-file: ${why}\n`,
      });
      expect(emptied).toEqual(refused(`${empty} is empty`));
      expect(tooLarge).toEqual(refused(`${huge} is larger than 64 KiB: a secret file holds the secret alone`));
      expect(missingKey).toEqual(refused(`cannot read ${absent}: ${enoent(absent)}`));
    } finally {
      await app.close();
    }
  }, 60_000);
});
