import type { Decision } from '../../../pipeline/core/decision.js';
import { mwError } from '../../../pipeline/core/errors.js';
import type { ActionAdapter, AdapterResult } from '../../adapter.js';

/**
 * A scripted enforcement point for engine tests: it records every call and fails the way it is told to.
 * Real adapters are tested against real or recorded servers in their own folders.
 */
export class RecordingAdapter implements ActionAdapter {
  readonly calls: { op: 'apply' | 'revert'; id: string; type: string; value: string }[] = [];
  /** how many of the next apply calls throw a retryable error */
  failNext = 0;
  /** every apply throws a non-retryable error */
  refuseAll = false;
  /** every apply throws a retryable error */
  downAll = false;
  /** the next apply never answers (an engine that dies mid-call) */
  hangNext = false;

  constructor(
    readonly type: string,
    private readonly types: Decision['type'][],
  ) {}

  supports(d: Decision): boolean {
    return this.types.includes(d.type);
  }

  async apply(d: Decision): Promise<AdapterResult> {
    this.calls.push({ op: 'apply', id: d.id, type: d.type, value: d.value });
    if (this.hangNext) {
      this.hangNext = false;
      return new Promise<AdapterResult>(() => {});
    }
    if (this.refuseAll) throw mwError('BAD_REQUEST', 'enforcement point refused the entry');
    if (this.downAll || this.failNext > 0) {
      this.failNext = Math.max(0, this.failNext - 1);
      throw mwError('ADAPTER_FAILED', 'enforcement point unreachable');
    }
    return { ok: true, detail: `applied ${d.type} ${d.value}`, ref: d.id };
  }

  async revert(d: Decision): Promise<AdapterResult> {
    this.calls.push({ op: 'revert', id: d.id, type: d.type, value: d.value });
    return { ok: true, detail: `reverted ${d.type} ${d.value}` };
  }

  async check() {
    return { ok: true };
  }

  applies(): number {
    return this.calls.filter((c) => c.op === 'apply').length;
  }
}
