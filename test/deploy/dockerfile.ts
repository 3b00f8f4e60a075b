import { posix } from 'node:path';

/** A small Dockerfile reader for the deployment tests: stages, their instructions, exec-form arrays. */

export interface Instruction {
  op: string;
  args: string;
}

export interface Stage {
  name: string;
  from: string;
  instructions: Instruction[];
}

export interface Dockerfile {
  args: Record<string, string>;
  stages: Stage[];
}

/** joins continuation lines, drops comments and blank lines */
function logicalLines(text: string): string[] {
  const out: string[] = [];
  let current = '';
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    if (!current && (line.trim() === '' || line.trim().startsWith('#'))) continue;
    if (line.endsWith('\\')) {
      current += `${line.slice(0, -1)} `;
      continue;
    }
    out.push((current + line).trim());
    current = '';
  }
  if (current) out.push(current.trim());
  return out;
}

export function parseDockerfile(text: string): Dockerfile {
  const args: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const line of logicalLines(text)) {
    const m = /^(\w+)\s+(.*)$/s.exec(line);
    if (!m) continue;
    const op = m[1].toUpperCase();
    const rest = m[2].trim();
    if (op === 'ARG' && stages.length === 0) {
      const [k, v] = rest.split('=');
      args[k] = v ?? '';
      continue;
    }
    if (op === 'FROM') {
      const f = /^(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?$/i.exec(rest);
      if (!f) throw new Error(`cannot read FROM ${rest}`);
      const from = f[1].replace(/\$\{(\w+)\}/g, (_s, name: string) => args[name] ?? '');
      stages.push({ name: f[2] ?? String(stages.length), from, instructions: [] });
      continue;
    }
    stages.at(-1)?.instructions.push({ op, args: rest });
  }
  return { args, stages };
}

/** an exec-form argument list (`["node", "x.js"]`), or undefined for shell form */
export function execForm(args: string): string[] | undefined {
  if (!args.startsWith('[')) return undefined;
  const parsed = JSON.parse(args) as unknown;
  return Array.isArray(parsed) && parsed.every((a) => typeof a === 'string') ? parsed : undefined;
}

export function stage(df: Dockerfile, name: string): Stage {
  const s = df.stages.find((st) => st.name === name);
  if (!s) throw new Error(`the Dockerfile has no stage ${name}`);
  return s;
}

/** the last value of an instruction in a stage (ENTRYPOINT, CMD, WORKDIR, USER) */
export function lastOf(s: Stage, op: string): string | undefined {
  return s.instructions.filter((i) => i.op === op).at(-1)?.args;
}

export interface Copy {
  from?: string;
  sources: string[];
  dest: string;
}

/** the COPY instructions of a stage */
export function copies(s: Stage): Copy[] {
  return s.instructions
    .filter((i) => i.op === 'COPY')
    .map((i) => {
      const words = i.args.split(/\s+/);
      let from: string | undefined;
      while (words[0]?.startsWith('--')) {
        const flag = words.shift() as string;
        if (flag.startsWith('--from=')) from = flag.slice('--from='.length);
      }
      const dest = words.pop() as string;
      return { from, sources: words, dest };
    });
}

/** the absolute path a COPY source lands on (the stage's WORKDIR resolves a relative destination) */
export function destinationOf(s: Stage, copy: Copy, source: string): string {
  const workdir = lastOf(s, 'WORKDIR') ?? '/';
  const dest = copy.dest.startsWith('/') ? copy.dest : posix.join(workdir, copy.dest);
  if (copy.dest.endsWith('/') || copy.dest === '.') return posix.join(dest, posix.basename(source));
  return posix.normalize(dest);
}
