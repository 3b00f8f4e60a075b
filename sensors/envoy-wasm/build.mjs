#!/usr/bin/env node
// Builds the Envoy sensor module (build/meshward-sensor.wasm) and the crypto test module (build/crypto-test.wasm)
// with AssemblyScript. Skips the work when the outputs are newer than every source; `--force` rebuilds.
import { mkdirSync, readdirSync, renameSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import asc from 'assemblyscript/asc';

const here = dirname(fileURLToPath(import.meta.url));
const targets = [
  { entry: 'assembly/index.ts', out: 'build/meshward-sensor.wasm' },
  { entry: 'assembly/testing/crypto-exports.ts', out: 'build/crypto-test.wasm' },
];

function newestSource() {
  let newest = statSync(join(here, 'asconfig.json')).mtimeMs;
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
    }
  };
  walk(join(here, 'assembly'));
  return newest;
}

function mtime(p) {
  try {
    return statSync(p).mtimeMs;
  } catch {
    return -1;
  }
}

export async function buildWasm({ force = false } = {}) {
  process.chdir(here);
  mkdirSync(join(here, 'build'), { recursive: true });
  const newest = newestSource();
  const built = [];
  for (const t of targets) {
    const out = join(here, t.out);
    if (!force && mtime(out) > newest) continue;
    // write beside the target and rename, so a concurrent reader never sees half a module
    const tmp = `${out}.${process.pid}.tmp`;
    let stderr = '';
    const { error } = await asc.main([t.entry, '--config', 'asconfig.json', '--target', 'release', '--outFile', tmp], {
      stderr: {
        write: (s) => {
          stderr += s;
          return true;
        },
      },
    });
    if (error) throw new Error(`asc failed for ${t.entry}: ${error.message}\n${stderr}`);
    renameSync(tmp, out);
    built.push(t.out);
  }
  return built;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  buildWasm({ force: process.argv.includes('--force') }).then(
    (built) => console.log(built.length ? `built ${built.join(', ')}` : 'wasm up to date'),
    (err) => {
      console.error(err.message);
      process.exit(1);
    },
  );
}
