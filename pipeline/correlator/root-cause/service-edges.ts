import type { ApiCallRecord } from '../../core/record.js';
import type { MeshScope } from '../../detectors/detector.js';
import { BoundedMap } from '../../detectors/shared/bounded-map.js';

/**
 * The mesh's call graph by service, in the store, for folding symptoms into their root cause across partitions
 * (pipeline/alerts/mesh-folder.ts). Records are partitioned by service, so a shard sees the calls *to* its services:
 * each record naming its calling workload (`source.service`) is an edge caller → callee. Each shard writes the edges
 * it saw to one hash per correlator group, `callgraph:<group>`, field `caller \0 callee`, value the event time it was
 * last seen (Store.hsetMax: a later write never moves it back); together they are the whole mesh's graph.
 */
export const callGraphKey = (group: string): string => `callgraph:${group}`;
export const EDGE_SEP = '\u0000';

/** an edge seen again is written again at most this often (event time) */
const REWRITE_MS = 60_000;
/** edges written per sync at most (the rest at the next) */
const MAX_WRITES = 1_000;
const PARALLEL = 32;

export class ServiceEdges {
  /** edge → when it was last written, least recently seen first */
  private readonly seen: BoundedMap<string, number>;
  private readonly unwritten = new Map<string, number>();
  private writes = 0;

  constructor(
    private readonly scope: MeshScope,
    maxEdges: number,
  ) {
    this.seen = new BoundedMap(maxEdges);
  }

  observe(r: ApiCallRecord): void {
    const from = r.source.service;
    if (!from || from === r.service) return;
    const key = `${from}${EDGE_SEP}${r.service}`;
    const last = this.seen.peek(key);
    if (last !== undefined && r.ts - last < REWRITE_MS) return;
    this.seen.set(key, r.ts, r.ts);
    this.unwritten.set(key, r.ts);
  }

  /** writes the edges seen since the last sync; a store failure throws, and what was not written stays */
  async publish(): Promise<void> {
    const batch = [...this.unwritten].slice(0, MAX_WRITES);
    const key = callGraphKey(this.scope.group);
    for (let i = 0; i < batch.length; i += PARALLEL)
      await Promise.all(
        batch.slice(i, i + PARALLEL).map(async ([edge, ts]) => {
          await this.scope.store.hsetMax(key, edge, ts);
          if (this.unwritten.get(edge) === ts) this.unwritten.delete(edge);
          this.writes++;
        }),
      );
  }

  stats(): Record<string, number> {
    return { mesh_edges: this.seen.size, mesh_edges_unwritten: this.unwritten.size, mesh_edge_writes: this.writes };
  }
}
