/**
 * The slice of the WebAssembly JS API the host uses. The project compiles without the DOM lib and @types/node 20
 * does not declare `WebAssembly`, so the host types what it needs here instead of pulling in a global lib.
 */
export interface WasmModule {
  readonly __wasmModule?: never;
}

export interface WasmMemory {
  readonly buffer: ArrayBuffer;
}

export type WasmImports = Record<string, Record<string, unknown>>;

export interface WasmModuleImport {
  module: string;
  name: string;
  kind: string;
}

interface WasmApi {
  compile(bytes: Uint8Array): Promise<WasmModule>;
  instantiate(module: WasmModule, imports: WasmImports): Promise<{ exports: Record<string, unknown> }>;
  Module: {
    imports(module: WasmModule): WasmModuleImport[];
    exports(module: WasmModule): Array<{ name: string; kind: string }>;
  };
  Memory: new (desc: { initial: number; maximum?: number }) => WasmMemory & { grow(pages: number): number };
}

export const Wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

export const isWasmModule = (v: unknown): v is WasmModule => v instanceof (Wasm.Module as unknown as new () => object);
