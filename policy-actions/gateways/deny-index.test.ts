import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DenyIndexFile } from './deny-index.js';

describe('DenyIndexFile: a map-based gateway index in its state file', () => {
  it('lives beside the maps unless state_file says where', () => {
    expect(new DenyIndexFile({ map_dir: '/etc/nginx/meshward' }).path).toBe('/etc/nginx/meshward/meshward-deny.json');
    expect(new DenyIndexFile({ map_dir: '/m', state_file: '/var/lib/mw/deny.json' }).path).toBe(
      '/var/lib/mw/deny.json',
    );
  });

  it('is loaded once for concurrent callers, and a failed load is tried again next time', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mw-deny-index-'));
    const file = new DenyIndexFile({ map_dir: dir });
    writeFileSync(file.path, 'not json');
    await expect(file.load()).rejects.toMatchObject({ code: 'MW_ERR_CONFIG_INVALID' });
    writeFileSync(file.path, JSON.stringify({ v: 1, decisions: [{ id: 'd1', until: 5, entries: [] }] }));
    const [a, b] = await Promise.all([file.load(), file.load()]);
    expect(a).toBe(b);
    expect(a.has('d1')).toBe(true);
  });
});
