import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { repoRoot } from './paths.js';

/**
 * Child processes for cross-process tests: spawn with env, collect stdout/stderr lines, wait for a line, kill.
 * Every child still running when the test process exits is SIGKILLed, so a failed test leaves nothing behind.
 */

export type StreamName = 'stdout' | 'stderr';

export interface OutputLine {
  stream: StreamName;
  text: string;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface SpawnOptions {
  args?: string[];
  /** merged over the parent's environment (unless cleanEnv); undefined removes a variable */
  env?: Record<string, string | undefined>;
  /** start from an empty environment (PATH is kept) */
  cleanEnv?: boolean;
  cwd?: string;
  /** a label for error messages; defaults to the command's base name */
  name?: string;
  /** keep stdin open as a pipe for write() (default true) */
  stdin?: boolean;
  /** lines kept in memory (oldest dropped first); default 20,000 */
  maxLines?: number;
}

export interface WaitOptions {
  timeoutMs?: number;
  stream?: StreamName | 'both';
  /** absolute line number to start from (see lineCount); default 0 = every line seen so far, then new ones */
  since?: number;
}

export interface Child {
  readonly name: string;
  readonly pid: number;
  readonly process: ChildProcess;
  /** the lines still held (the most recent maxLines) */
  lines(): OutputLine[];
  /** how many lines arrived in total: pass as `since` to wait only for lines after this point */
  lineCount(): number;
  waitForLine(pattern: RegExp, opts?: WaitOptions): Promise<RegExpMatchArray>;
  /** write one line to stdin */
  write(line: string): void;
  /** close stdin (EOF) */
  endInput(): void;
  /** send a signal (default SIGKILL); no-op once exited */
  kill(signal?: NodeJS.Signals): void;
  /** SIGTERM, then SIGKILL after graceMs (default 5000); resolves with the exit */
  stop(graceMs?: number): Promise<ExitInfo>;
  readonly exited: Promise<ExitInfo>;
  exitInfo(): ExitInfo | null;
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const cp of live) {
      try {
        cp.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
  });
}

interface Waiter {
  pattern: RegExp;
  stream: StreamName | 'both';
  resolve: (m: RegExpMatchArray) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

export function spawnProcess(command: string, opts: SpawnOptions = {}): Child {
  installExitHook();
  const name = opts.name ?? command.split('/').pop() ?? command;
  const env: Record<string, string> = {};
  const base = opts.cleanEnv ? { PATH: process.env.PATH } : process.env;
  for (const [k, v] of Object.entries(base)) if (v !== undefined) env[k] = v;
  for (const [k, v] of Object.entries(opts.env ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  const cp = spawn(command, opts.args ?? [], {
    cwd: opts.cwd ?? repoRoot(),
    env,
    stdio: [opts.stdin === false ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  live.add(cp);
  const maxLines = opts.maxLines ?? 20_000;
  const held: OutputLine[] = [];
  let total = 0;
  const waiters = new Set<Waiter>();
  let exit: ExitInfo | null = null;
  let spawnError: Error | null = null;

  const tail = (): string =>
    held
      .slice(-20)
      .map((l) => `  [${l.stream}] ${l.text}`)
      .join('\n');

  const onLine = (stream: StreamName, text: string): void => {
    held.push({ stream, text });
    total++;
    if (held.length > maxLines) held.shift();
    for (const w of waiters) {
      if (w.stream !== 'both' && w.stream !== stream) continue;
      const m = text.match(w.pattern);
      if (m) {
        waiters.delete(w);
        clearTimeout(w.timer);
        w.resolve(m);
      }
    }
  };
  if (cp.stdout) createInterface({ input: cp.stdout }).on('line', (l) => onLine('stdout', l));
  if (cp.stderr) createInterface({ input: cp.stderr }).on('line', (l) => onLine('stderr', l));
  // writing to a child that died must not crash the test process
  cp.stdin?.on('error', () => {});

  const exited = new Promise<ExitInfo>((resolve) => {
    cp.once('error', (err) => {
      spawnError = err;
      if (cp.pid === undefined) {
        live.delete(cp);
        exit = { code: null, signal: null };
        failWaiters();
        resolve(exit);
      }
    });
    // 'close' fires after the output streams are drained, so every line is in `held` by then
    cp.once('close', (code, signal) => {
      live.delete(cp);
      exit = { code, signal };
      failWaiters();
      resolve(exit);
    });
  });

  function failWaiters(): void {
    for (const w of waiters) {
      clearTimeout(w.timer);
      const why = spawnError ? `failed to start: ${spawnError.message}` : `exited (${describeExit(exit)})`;
      w.reject(new Error(`${name} ${why} before printing a line matching ${w.pattern}\n${tail()}`));
    }
    waiters.clear();
  }

  const child: Child = {
    name,
    pid: cp.pid ?? -1,
    process: cp,
    lines: () => held.slice(),
    lineCount: () => total,
    waitForLine(pattern, wopts = {}) {
      const stream = wopts.stream ?? 'both';
      const since = wopts.since ?? 0;
      const firstHeld = total - held.length;
      for (let i = Math.max(0, since - firstHeld); i < held.length; i++) {
        const l = held[i];
        if (stream !== 'both' && l.stream !== stream) continue;
        const m = l.text.match(pattern);
        if (m) return Promise.resolve(m);
      }
      if (exit) {
        return Promise.reject(
          new Error(`${name} exited (${describeExit(exit)}) without a line matching ${pattern}\n${tail()}`),
        );
      }
      const timeoutMs = wopts.timeoutMs ?? 10_000;
      return new Promise((resolve, reject) => {
        const w: Waiter = {
          pattern,
          stream,
          resolve,
          reject,
          timer: setTimeout(() => {
            waiters.delete(w);
            reject(new Error(`${name}: no line matching ${pattern} within ${timeoutMs} ms\n${tail()}`));
          }, timeoutMs),
        };
        waiters.add(w);
      });
    },
    write(line) {
      if (!cp.stdin || cp.stdin.destroyed || exit) throw new Error(`${name}: stdin is closed`);
      cp.stdin.write(`${line}\n`);
    },
    endInput() {
      cp.stdin?.end();
    },
    kill(signal = 'SIGKILL') {
      if (exit || cp.exitCode !== null || cp.signalCode !== null) return;
      cp.kill(signal);
    },
    async stop(graceMs = 5_000) {
      if (exit) return exit;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
    exited,
    exitInfo: () => exit,
  };
  return child;
}

/**
 * A Node child: `node [--import tsx] script args`. TypeScript sources run through tsx (a dev dependency), compiled
 * .js files run directly.
 */
export function spawnNode(script: string, opts: SpawnOptions & { nodeArgs?: string[] } = {}): Child {
  const pre = script.endsWith('.ts') ? ['--import', 'tsx'] : [];
  return spawnProcess(process.execPath, {
    ...opts,
    name: opts.name ?? script.split('/').pop(),
    args: [...(opts.nodeArgs ?? []), ...pre, script, ...(opts.args ?? [])],
  });
}

export function describeExit(e: ExitInfo | null): string {
  if (!e) return 'running';
  return e.signal ? `signal ${e.signal}` : `code ${e.code}`;
}
