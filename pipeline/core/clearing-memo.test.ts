import { describe, expect, it } from 'vitest';
import { ClearingMemo } from './clearing-memo.js';

describe('ClearingMemo', () => {
  it('computes each key once while it holds it, null answers included', () => {
    const calls: string[] = [];
    const memo = new ClearingMemo((k: string) => {
      calls.push(k);
      return k.startsWith('n') ? null : k.length;
    });
    expect([memo.get('abc'), memo.get('abc'), memo.get('no'), memo.get('no')]).toEqual([3, 3, null, null]);
    expect(calls).toEqual(['abc', 'no']);
  });

  it('starts again empty at max answers: bounded, and the answers never change', () => {
    let computed = 0;
    const memo = new ClearingMemo((k: string) => {
      computed++;
      return `v-${k}`;
    }, 3);
    for (const k of ['a', 'b', 'c']) memo.get(k);
    expect(memo.size).toBe(3);
    expect(memo.get('d')).toBe('v-d');
    expect(memo.size).toBe(1);
    expect(memo.get('a')).toBe('v-a');
    expect(computed).toBe(5);
  });
});
