/**
 * Who calls whom, learnt from records: a record whose parent span is known names the caller's endpoint (trace ids),
 * a record with only a calling workload (source.service) names the caller's service. Nodes are `service` +
 * `METHOD /route` (an empty endpoint when only the service is known). Learnt from a sample of traces (chosen by trace
 * id, so a sampled trace is seen whole), bounded: spans waiting for their parent or child live for two generations of
 * `spanCap` spans, and edges are capped (least recently seen dropped first).
 */
import type { ApiCallRecord } from '../../core/record.js';
import { BoundedMap } from '../../detectors/shared/bounded-map.js';

/** a service (endpoint absent) or one of its endpoints, as alerts and metric series name them */
export interface Place {
  service: string;
  endpoint?: string;
}

/** a place as alerts name it in text: `service` or `service METHOD /route` */
export const placeOf = (p: Place): string => (p.endpoint === undefined ? p.service : `${p.service} ${p.endpoint}`);

const SEP = '\u0000';
/** between the two nodes of an edge key (nodes hold SEP) */
const EDGE = '\u0001';
const nodeKey = (service: string, endpoint: string): string => `${service}${SEP}${endpoint}`;
const serviceOfNode = (node: string): string => node.slice(0, node.indexOf(SEP));
/** how often (ms of event time) an edge seen again moves to the recent end of the LRU order */
const REFRESH_MS = 60_000;

export class CallGraph {
  /** `from EDGE to` → last seen (ms), least recently seen first; past maxEdges the oldest is dropped */
  private readonly edges: BoundedMap<string, number>;
  /** spanId → node of sampled records, two generations */
  private spans = new Map<string, string>();
  private oldSpans = new Map<string, string>();
  /** parentSpanId → nodes of children seen before their parent, two generations */
  private orphans = new Map<string, string[]>();
  private oldOrphans = new Map<string, string[]>();
  private adjacency: Map<string, string[]> | undefined;
  private byService: Map<string, string[]> | undefined;

  constructor(private readonly opts: { maxEdges: number; traceSample: number; spanCap?: number }) {
    this.edges = new BoundedMap(opts.maxEdges);
  }

  /** whether the record is in the sample: a cheap test on its trace id (its own id when untraced) */
  sampled(r: ApiCallRecord): boolean {
    const n = this.opts.traceSample;
    if (n === 1) return true;
    const id = r.trace?.traceId ?? r.id;
    return (id.charCodeAt(id.length - 1) * 31 + id.charCodeAt(0)) % n === 0;
  }

  /** learns from one sampled record (`endpoint` is its `METHOD /route`) */
  observe(r: ApiCallRecord, endpoint: string): void {
    const me = nodeKey(r.service, endpoint);
    const span = r.trace?.spanId;
    const parent = r.trace?.parentSpanId;
    if (parent) {
      const from = this.spans.get(parent) ?? this.oldSpans.get(parent);
      if (from !== undefined) this.addEdge(from, me, r.ts);
      else this.waitFor(parent, me);
    } else if (r.source.service) {
      this.addEdge(nodeKey(r.source.service, ''), me, r.ts);
    }
    if (span) {
      this.remember(span, me);
      const children = this.orphans.get(span) ?? this.oldOrphans.get(span);
      if (children) {
        for (const c of children) this.addEdge(me, c, r.ts);
        this.orphans.delete(span);
        this.oldOrphans.delete(span);
      }
    }
  }

  /** whether `from` calls `to`, directly or through other hops; a service-level place stands for all its nodes */
  reaches(from: Place, to: Place): boolean {
    const adj = this.graph();
    const start = this.nodesOf(from);
    const seen = new Set<string>();
    const queue: string[] = [];
    const visit = (n: string) => {
      for (const m of adj.get(n) ?? []) {
        if (seen.has(m)) continue;
        seen.add(m);
        queue.push(m);
      }
    };
    for (const n of start) visit(n);
    for (let i = 0; i < queue.length; i++) {
      if (matches(queue[i], to)) return true;
      visit(queue[i]);
    }
    return false;
  }

  get size(): number {
    return this.edges.size;
  }

  /** edges as [from, to] pairs, least recently seen first (checkpoints) */
  snapshot(): [string, string, number][] {
    return [...this.edges.entries()].map(([k, at]) => {
      const [from, to] = k.split(EDGE);
      return [from, to, at];
    });
  }

  restore(edges: [string, string, number][]): void {
    this.edges.clear();
    for (const [from, to, at] of edges.slice(-this.opts.maxEdges)) this.edges.set(`${from}${EDGE}${to}`, at, at);
    this.adjacency = undefined;
  }

  private addEdge(from: string, to: string, ts: number): void {
    const key = `${from}${EDGE}${to}`;
    const last = this.edges.peek(key);
    if (last !== undefined && ts - last < REFRESH_MS) return;
    // a new edge (and the eviction it may cause) changes the graph; a refreshed one only its recency
    if (last === undefined) this.adjacency = undefined;
    this.edges.set(key, ts, ts);
  }

  private remember(span: string, node: string): void {
    if (this.spans.size >= (this.opts.spanCap ?? 4096)) {
      this.oldSpans = this.spans;
      this.spans = new Map();
      this.oldOrphans = this.orphans;
      this.orphans = new Map();
    }
    this.spans.set(span, node);
  }

  private waitFor(parent: string, child: string): void {
    const list = this.orphans.get(parent);
    if (list) {
      if (list.length < 64) list.push(child);
    } else this.orphans.set(parent, [child]);
  }

  private graph(): Map<string, string[]> {
    if (this.adjacency) return this.adjacency;
    const adj = new Map<string, string[]>();
    const byService = new Map<string, string[]>();
    const note = (n: string) => {
      const s = serviceOfNode(n);
      const list = byService.get(s);
      if (!list) byService.set(s, [n]);
      else if (!list.includes(n)) list.push(n);
    };
    for (const [k] of this.edges.entries()) {
      const [from, to] = k.split(EDGE);
      const list = adj.get(from);
      if (list) list.push(to);
      else adj.set(from, [to]);
      note(from);
      note(to);
    }
    this.adjacency = adj;
    this.byService = byService;
    return adj;
  }

  private nodesOf(p: Place): string[] {
    if (p.endpoint !== undefined) return [nodeKey(p.service, p.endpoint)];
    return this.byService?.get(p.service) ?? [];
  }
}

function matches(node: string, p: Place): boolean {
  return p.endpoint === undefined ? serviceOfNode(node) === p.service : node === nodeKey(p.service, p.endpoint);
}
