import { describe, expect, it } from 'vitest';
import { decodeHeaderPairs, encodeHeaderPairs, encodeProperty, WasmResult } from './abi.js';
import { ProxyWasmHost } from './proxy-wasm-host.js';
import { Wasm, type WasmImports } from './wasm-api.js';

// ABI mechanics of the host, driven by a filter written in JS over a real WebAssembly.Memory.

function jsFilter(
  onLog: (env: Record<string, (...a: number[]) => number>, mem: Uint8Array, alloc: (n: number) => number) => void,
) {
  return (imports: WasmImports) => {
    const memory = new Wasm.Memory({ initial: 1 });
    let next = 1024;
    const alloc = (n: number) => {
      const p = next;
      next += (n + 7) & ~7;
      return p;
    };
    return {
      memory,
      malloc: alloc,
      proxy_on_configure: () => 1,
      proxy_on_log: () =>
        onLog(imports.env as Record<string, (...a: number[]) => number>, new Uint8Array(memory.buffer), alloc),
    };
  };
}

const put = (mem: Uint8Array, alloc: (n: number) => number, s: string): [number, number] => {
  const b = new TextEncoder().encode(s);
  const p = alloc(b.length);
  mem.set(b, p);
  return [p, b.length];
};

describe('proxy-wasm host', () => {
  it('round-trips the header map wire format, bytes and empty values included', () => {
    const headers: Array<[string, string | Uint8Array]> = [
      [':path', '/a'],
      ['x-bin', Uint8Array.of(0, 255, 1)],
      ['empty', ''],
    ];
    const decoded = decodeHeaderPairs(encodeHeaderPairs(headers));
    expect(decoded.map(([k, v]) => [k, Buffer.from(v).toString('hex')])).toEqual([
      [':path', Buffer.from('/a').toString('hex')],
      ['x-bin', '00ff01'],
      ['empty', ''],
    ]);
    expect(() => decodeHeaderPairs(Uint8Array.of(9, 0, 0, 0))).toThrow();
  });

  it('returns values through malloc and the two return slots; NotFound for absent ones', async () => {
    const seen: Record<string, unknown> = {};
    const host = await ProxyWasmHost.create({
      pluginConfig: '{}',
      instantiate: jsFilter((env, _mem, alloc) => {
        const mem = () =>
          new Uint8Array((host as unknown as { exports: { memory: { buffer: ArrayBuffer } } }).exports.memory.buffer);
        const slots = alloc(8);
        const dv = () => new DataView(mem().buffer);
        const [p, n] = put(mem(), alloc, 'request\0path');
        seen.status = env.proxy_get_property(p, n, slots, slots + 4);
        const ptr = dv().getUint32(slots, true);
        const size = dv().getUint32(slots + 4, true);
        seen.value = new TextDecoder().decode(mem().subarray(ptr, ptr + size));
        const [q, m] = put(mem(), alloc, 'request\0nothing');
        seen.missing = env.proxy_get_property(q, m, slots, slots + 4);
        const [h, hn] = put(mem(), alloc, 'X-Dup');
        env.proxy_get_header_map_value(0, h, hn, slots, slots + 4);
        const hp = dv().getUint32(slots, true);
        seen.joined = new TextDecoder().decode(mem().subarray(hp, hp + dv().getUint32(slots + 4, true)));
        seen.badContext = env.proxy_set_effective_context(999);
      }),
    });
    host.start();
    host.request({
      requestHeaders: [
        ['x-dup', 'a'],
        ['x-dup', 'b'],
      ],
      properties: { 'request.path': '/p?q=1' },
    });
    expect(seen).toEqual({
      status: WasmResult.Ok,
      value: '/p?q=1',
      missing: WasmResult.NotFound,
      joined: 'a,b',
      badContext: WasmResult.BadArgument,
    });
  });

  it('encodes attributes the way Envoy does', () => {
    expect([...encodeProperty(true)]).toEqual([1]);
    expect(Buffer.from(encodeProperty(258)).toString('hex')).toBe('0201000000000000');
    expect(Buffer.from(encodeProperty(-1n)).toString('hex')).toBe('ffffffffffffffff');
    expect(Buffer.from(encodeProperty('é')).toString('hex')).toBe('c3a9');
  });
});
