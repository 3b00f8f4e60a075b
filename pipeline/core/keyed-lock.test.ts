import { describe, expect, it } from 'vitest';
import { KeyedLock } from './keyed-lock.js';

const tick = () => new Promise((r) => setTimeout(r, 5));

describe('KeyedLock', () => {
  it('runs work of one key in call order, one at a time, others alongside; a failure does not block the key', async () => {
    const lock = new KeyedLock<string>();
    const log: string[] = [];
    const job =
      (name: string, fail = false) =>
      async () => {
        log.push(`${name}:start`);
        await tick();
        log.push(`${name}:end`);
        if (fail) throw new Error(name);
        return name;
      };
    const a1 = lock.run('a', job('a1', true));
    const a2 = lock.run('a', job('a2'));
    const b1 = lock.run('b', job('b1'));
    await expect(a1).rejects.toThrow('a1');
    expect(await a2).toBe('a2');
    expect(await b1).toBe('b1');
    expect(log.indexOf('a1:end')).toBeLessThan(log.indexOf('a2:start'));
    expect(log.indexOf('b1:start')).toBeLessThan(log.indexOf('a1:end'));
  });

  it('idle() resolves only after everything queued has run', async () => {
    const lock = new KeyedLock<number>();
    let done = 0;
    for (let i = 0; i < 5; i++)
      void lock.run(i % 2, async () => {
        await tick();
        done++;
      });
    await lock.idle();
    expect(done).toBe(5);
  });
});
