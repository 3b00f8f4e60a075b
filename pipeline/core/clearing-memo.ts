/**
 * A pure memo of a function of a string: the same key always gets the same answer, and memory stays bounded because
 * the memo starts again empty when it holds `max` answers (a stream of ever-new keys costs one computation each, as
 * without the memo). For answers that repeat (route shapes by endpoint, path segments, short parameter values).
 * `compute` must not return undefined (use null).
 */
export class ClearingMemo<V extends NonNullable<unknown> | null> {
  private readonly answers = new Map<string, V>();

  constructor(
    private readonly compute: (key: string) => V,
    private readonly max = 4096,
  ) {}

  get(key: string): V {
    const known = this.answers.get(key);
    if (known !== undefined) return known;
    const answer = this.compute(key);
    if (this.answers.size >= this.max) this.answers.clear();
    this.answers.set(key, answer);
    return answer;
  }

  get size(): number {
    return this.answers.size;
  }
}
