import { mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import '../detectors/all.js';
import { resolveConfig } from '../config/load.js';
import { checkSections } from './check-sections.js';
import { prepareDemo } from './demo.js';

describe('meshward start --demo: first-run credentials', () => {
  it('gives receivers without a token hash key one generated into the data dir, the same on every restart', () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'meshward-demo-')), 'data');
    mkdirSync(dataDir);
    // a data dir of an earlier demo: credentials without a token hash key
    const file = join(dataDir, 'demo-credentials.json');
    writeFileSync(file, JSON.stringify({ sensorToken: 'old-sensor-token', adminKey: 'a', viewerKey: 'v' }), {
      mode: 0o600,
    });
    const config = () =>
      resolveConfig({
        data_dir: dataDir,
        receivers: {
          kong_http_log: { tokens: [] },
          'idp/own': { token_hash_key_file: '/run/secrets/token-hash-key' },
        },
      });
    const first = prepareDemo(config());
    checkSections(first, '<demo>');
    const stored = JSON.parse(readFileSync(file, 'utf8'));
    expect(stored).toMatchObject({ sensorToken: 'old-sensor-token', adminKey: 'a', viewerKey: 'v' });
    expect(stored.tokenHashKey).toMatch(/^[\w-]{32}$/);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(first.receivers).toEqual({
      kong_http_log: { tokens: [], token_hash_key: stored.tokenHashKey },
      'idp/own': { token_hash_key_file: '/run/secrets/token-hash-key' },
    });
    expect(first.collector.sensor_tokens).toEqual([{ id: 'demo-sensor', token: 'old-sensor-token' }]);
    expect(prepareDemo(config()).receivers?.kong_http_log).toEqual(first.receivers?.kong_http_log);
  });
});
