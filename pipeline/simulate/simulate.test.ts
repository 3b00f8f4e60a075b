import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Value } from '@sinclair/typebox/value';
import { describe, expect, it } from 'vitest';
import { ApiCallRecordSchema } from '../core/record.js';
import { ALL_KINDS } from './anomalies/index.js';
import { AnomalyLabelSchema } from './labels.js';
import { Rng } from '../core/prng.js';
import { runSimulate } from './run-simulate.js';
import { simulate } from './simulate.js';

const START = Date.UTC(2024, 5, 3, 9);

describe('simulate', () => {
  const sim = simulate({
    seed: 5,
    start: START,
    durationMs: 12 * 60_000,
    rps: 4,
    anomalies: ALL_KINDS.map((kind) => ({ kind })),
    warmupShare: 0.3,
  });

  it('gives valid records sorted by time, and the same records for the same seed', () => {
    expect(sim.records.length).toBeGreaterThan(2000);
    for (const r of sim.records) expect(Value.Check(ApiCallRecordSchema, r), r.id).toBe(true);
    for (let i = 1; i < sim.records.length; i++)
      expect(sim.records[i].ts).toBeGreaterThanOrEqual(sim.records[i - 1].ts);
    const again = simulate({
      seed: 5,
      start: START,
      durationMs: 12 * 60_000,
      rps: 4,
      anomalies: ALL_KINDS.map((kind) => ({ kind })),
      warmupShare: 0.3,
    });
    expect(again.records).toEqual(sim.records);
    const other = simulate({ seed: 6, start: START, durationMs: 12 * 60_000, rps: 4, anomalies: [] });
    expect(other.records[0].id).not.toBe(sim.records[0].id);
  });

  it('labels one anomaly per requested kind, inside the run and after the warm-up', () => {
    expect(sim.labels.map((l) => l.kind).sort()).toEqual([...ALL_KINDS].sort());
    for (const l of sim.labels) {
      expect(Value.Check(AnomalyLabelSchema, l)).toBe(true);
      expect(l.start).toBeGreaterThanOrEqual(START + 0.3 * 12 * 60_000);
      expect(l.end).toBeLessThanOrEqual(START + 12 * 60_000);
      expect(l.end).toBeGreaterThan(l.start);
    }
  });

  it('models tokens, principals, mTLS, traces and regions like a mesh', () => {
    const edge = sim.records.filter((r) => r.service === 'frontend' && r.user?.tokenHash);
    expect(edge.length).toBeGreaterThan(100);
    for (const r of edge) expect(r.user?.tokenHash).toMatch(/^h1:[0-9a-f]{32}$/);
    const hops = sim.records.filter((r) => r.source.service === 'frontend' && r.source.mtls === true);
    expect(hops.every((r) => r.source.principal === 'spiffe://cluster.local/ns/web/sa/frontend')).toBe(true);
    const roots = new Map(edge.map((r) => [r.trace?.traceId, r]));
    const stitched = hops.filter((h) => roots.has(h.trace?.traceId));
    expect(stitched.length).toBeGreaterThan(100);
    for (const h of stitched.slice(0, 50)) expect(h.ts).toBeGreaterThanOrEqual(roots.get(h.trace?.traceId)!.ts);
    expect(new Set(sim.records.map((r) => r.region))).toEqual(new Set(['eu-west-1', 'us-east-1']));
    const plaintext = sim.records.filter((r) => r.source.service && r.source.mtls !== true);
    const label = sim.labels.find((l) => l.kind === 'plaintext_hop')!;
    expect(plaintext.length).toBeGreaterThan(0);
    for (const r of plaintext) {
      expect(r.source.service).toBe(label.subject?.value);
      expect(r.ts).toBeGreaterThanOrEqual(label.start);
    }
  });

  it('draws log-normal latencies and a small error rate outside anomalies', () => {
    const clean = simulate({ seed: 9, start: START, durationMs: 10 * 60_000, rps: 6, anomalies: [] });
    const cat = clean.records
      .filter((r) => r.service === 'catalog' && r.route === '/products/{id}')
      .map((r) => r.durationMs)
      .sort((a, b) => a - b);
    const median = cat[Math.floor(cat.length / 2)];
    const p99 = cat[Math.floor(cat.length * 0.99)];
    expect(median).toBeGreaterThan(8);
    expect(median).toBeLessThan(18);
    expect(p99 / median).toBeGreaterThan(2);
    const errors = clean.records.filter((r) => r.status >= 500).length / clean.records.length;
    expect(errors).toBeGreaterThan(0);
    expect(errors).toBeLessThan(0.02);
  });

  it('rejects an unknown anomaly kind', () => {
    expect(() => simulate({ seed: 1, start: START, durationMs: 60_000, anomalies: [{ kind: 'nope' }] })).toThrow(
      /unknown anomaly kind/,
    );
  });
});

describe('Rng', () => {
  it('is deterministic and uniform enough', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const xs = Array.from({ length: 10_000 }, () => a.next());
    expect(xs).toEqual(Array.from({ length: 10_000 }, () => b.next()));
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.02);
    const p = Array.from({ length: 5000 }, () => a.poisson(3));
    expect(Math.abs(p.reduce((s, x) => s + x, 0) / p.length - 3)).toBeLessThan(0.15);
  });
});

describe('runSimulate', () => {
  it('writes sorted JSONL records and labels', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mw-sim-'));
    try {
      const out = join(dir, 'records.jsonl');
      const labelsOut = join(dir, 'labels.jsonl');
      const res = await runSimulate({
        out,
        labelsOut,
        seed: 3,
        minutes: 3,
        rps: 2,
        anomalies: ['enumeration', 'plaintext_hop'],
      });
      const lines = readFileSync(out, 'utf8').trim().split('\n');
      expect(lines.length).toBe(res.records);
      const ts = lines.map((l) => JSON.parse(l).ts as number);
      expect([...ts].sort((x, y) => x - y)).toEqual(ts);
      const labels = readFileSync(labelsOut, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(labels.map((l) => l.kind)).toEqual(['enumeration', 'plaintext_hop']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
