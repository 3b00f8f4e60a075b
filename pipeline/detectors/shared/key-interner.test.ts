import { describe, expect, it } from 'vitest';
import { KeyInterner } from './key-interner.js';

describe('KeyInterner', () => {
  it('gives the joined string, the same one for the same pair, and starts again past its cap', () => {
    const keys = new KeyInterner('\u0000', 3);
    const a = keys.key('svc', 'GET /x');
    expect(a).toBe('svc\u0000GET /x');
    expect(keys.key(`sv${'c'}`, `GET ${'/x'}`)).toBe(a);
    expect(keys.key('other', 'GET /x')).toBe('other\u0000GET /x');
    expect(keys.key('svc', 'GET /y')).toBe('svc\u0000GET /y');
    expect(keys.size).toBe(3);
    expect(keys.key('svc', 'GET /z')).toBe('svc\u0000GET /z');
    expect(keys.size).toBe(1);
    expect(keys.key('svc', 'GET /x')).toBe(a);
    expect(keys.size).toBe(2);
  });
});
