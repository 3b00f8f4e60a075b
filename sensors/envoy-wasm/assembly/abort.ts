// Replaces AssemblyScript's default `env.abort` import (which Envoy does not provide): log at critical level through
// proxy_log, then trap. Wired in with `--use abort=assembly/abort/meshwardAbort` (see asconfig.json).
@external("env", "proxy_log")
declare function proxy_log(level: u32, ptr: usize, size: usize): u32;

export function meshwardAbort(message: string | null, fileName: string | null, line: u32, column: u32): void {
  let text = "meshward sensor abort";
  if (message !== null) text += ": " + message;
  if (fileName !== null) text += " at " + fileName + ":" + line.toString() + ":" + column.toString();
  const bytes = String.UTF8.encode(text);
  proxy_log(5, changetype<usize>(bytes), <usize>bytes.byteLength);
  unreachable();
}
