import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** sensors/envoy-wasm in the source tree, found from here whether running from sources or from dist/ */
export function sensorDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the project root (package.json) above this file');
    dir = up;
  }
  return join(dir, 'sensors', 'envoy-wasm');
}

export const sensorWasmPath = (): string => join(sensorDir(), 'build', 'meshward-sensor.wasm');
export const cryptoTestWasmPath = (): string => join(sensorDir(), 'build', 'crypto-test.wasm');

/** builds the modules when missing or older than their sources (build.mjs decides), then returns the sensor's bytes */
export function ensureSensorWasm(): Uint8Array {
  execFileSync(process.execPath, [join(sensorDir(), 'build.mjs')], { stdio: ['ignore', 'ignore', 'inherit'] });
  return readFileSync(sensorWasmPath());
}
