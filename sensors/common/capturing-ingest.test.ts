import { describe, expect, it } from 'vitest';
import { PARAM_KEY_MAX, PATH_MAX } from '../../pipeline/core/record.js';
import { CapturingIngest } from './capturing-ingest.js';
import { sampleRecord } from './test-records.js';

const ORIGIN = { receiver: 'http', key: 'http', sensorId: 'test-sensor' } as const;

describe('CapturingIngest (the collector stand-in of sensor tests)', () => {
  it('refuses what is past a bound, which the collector would cut: a sensor must cap it itself', async () => {
    const ingest = new CapturingIngest();
    const result = await ingest.ingest(
      [
        sampleRecord(1),
        sampleRecord(2, { params: { ['p'.repeat(PARAM_KEY_MAX + 1)]: 1 } }),
        sampleRecord(3, { path: `/${'a'.repeat(PATH_MAX)}` }),
      ],
      ORIGIN,
    );
    expect(result.accepted).toBe(1);
    expect(result.rejected.map((r) => [r.index, r.code])).toEqual([
      [1, 'MW_ERR_RECORD_INVALID'],
      [2, 'MW_ERR_RECORD_INVALID'],
    ]);
    expect(ingest.invalid).toHaveLength(2);
  });
});
