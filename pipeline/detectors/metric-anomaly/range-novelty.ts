/**
 * Range novelty: has any earlier row visited the bin of the observed range that the current value falls in?
 * Asked at several resolutions at once (grids of `binsMin` to `binsMax` equal bins over the range, geometrically
 * spaced), the answer is the share of grids on which the bin is new: 0 for a value of a kind already seen (a
 * recurring spike, a return to a known level), up to 1 for a value in a part of the range never visited (a new kind
 * of event). Unlike a count histogram this never forgets a visit while the grids stand, however long ago it was.
 *
 * The grids are laid over the range observed when the first row is visited, and laid again, forgetting every visit,
 * once the range has grown past `regrow` times the range they were laid on (a new extreme makes the old bins
 * meaningless). Until then a value can sit below the grids' origin or above their top by at most (regrow - 1) times
 * the laid range, so a fixed number of flags per grid covers every reachable bin: memory is fixed by the options.
 */

export interface RangeNoveltyState {
  /** lowest value when the grids were laid (null: not laid yet) */
  origin: number | null;
  /** the range the grids were laid on */
  span: number;
  /** flat indices of the visited bin slots */
  visited: number[];
}

/** where each grid's bins sit in the flags; it depends only on the options, so scorers alike share one */
interface GridLayout {
  /** bins of each grid over the laid range */
  readonly bins: Float64Array;
  /** lowest bin index each grid can reach (negative: below the origin) */
  readonly lowest: Int32Array;
  /** where each grid's flags start */
  readonly base: Int32Array;
  /** bin slots of each grid */
  readonly slots: Int32Array;
  readonly total: number;
}

const layouts = new Map<string, GridLayout>();

function layoutOf(grids: number, binsMin: number, binsMax: number, regrow: number): GridLayout {
  const key = `${grids}:${binsMin}:${binsMax}:${regrow}`;
  let layout = layouts.get(key);
  if (layout) return layout;
  const bins = new Float64Array(grids);
  const lowest = new Int32Array(grids);
  const base = new Int32Array(grids);
  const slots = new Int32Array(grids);
  let total = 0;
  for (let g = 0; g < grids; g++) {
    const b = grids === 1 ? binsMin : binsMin * (binsMax / binsMin) ** (g / (grids - 1));
    bins[g] = b;
    lowest[g] = Math.floor(-(regrow - 1) * b) - 1;
    slots[g] = Math.floor(regrow * b) + 1 - lowest[g] + 1;
    base[g] = total;
    total += slots[g];
  }
  layout = { bins, lowest, base, slots, total };
  // one entry per distinct option set: a process holds a handful at most
  if (layouts.size < 64) layouts.set(key, layout);
  return layout;
}

export class RangeNovelty {
  private readonly grid: GridLayout;
  private readonly visited: Uint8Array;
  private origin = Number.NaN;
  private span = 0;

  constructor(
    grids: number,
    binsMin: number,
    binsMax: number,
    private readonly regrow: number,
  ) {
    if (!Number.isInteger(grids) || grids < 1) throw new RangeError('range novelty needs at least one grid');
    if (!(binsMin >= 1 && binsMax >= binsMin)) throw new RangeError('range novelty needs 1 <= bins min <= bins max');
    if (!(regrow > 1)) throw new RangeError('range novelty regrow must be above 1');
    this.grid = layoutOf(grids, binsMin, binsMax, regrow);
    this.visited = new Uint8Array(this.grid.total);
  }

  /** bytes of the per-series state (flags plus the handful of numbers) */
  get bytes(): number {
    return this.visited.byteLength + 16;
  }

  /**
   * Visit `value` (with `lo`/`hi` the observed range including it): the share of grids on which its bin had never
   * been visited, then the bins are marked.
   */
  visit(value: number, lo: number, hi: number): number {
    const range = hi - lo;
    if (Number.isNaN(this.origin) || range > this.regrow * this.span) this.lay(lo, range, value);
    let fresh = 0;
    const grids = this.grid.bins.length;
    for (let g = 0; g < grids; g++) {
      const at = this.slotOf(g, value);
      if (this.visited[at] === 0) {
        this.visited[at] = 1;
        fresh++;
      }
    }
    return fresh / grids;
  }

  snapshot(): RangeNoveltyState {
    const visited: number[] = [];
    for (let i = 0; i < this.visited.length; i++) if (this.visited[i] !== 0) visited.push(i);
    return { origin: Number.isNaN(this.origin) ? null : this.origin, span: this.span, visited };
  }

  /** restore a snapshot taken with the same options; throws RangeError when it does not fit */
  restore(state: RangeNoveltyState | undefined): void {
    if (state !== undefined) {
      const fits =
        (state.origin === null || Number.isFinite(state.origin)) &&
        Number.isFinite(state.span) &&
        Array.isArray(state.visited) &&
        state.visited.every((i) => Number.isInteger(i) && i >= 0 && i < this.visited.length);
      if (!fits) throw new RangeError('range novelty snapshot does not match this scorer');
    }
    this.visited.fill(0);
    this.origin = state?.origin ?? Number.NaN;
    this.span = state?.span ?? 0;
    for (const i of state?.visited ?? []) this.visited[i] = 1;
  }

  private lay(lo: number, range: number, value: number): void {
    this.origin = lo;
    this.span = range > 0 ? range : Math.abs(value) * 1e-3 + 1e-9;
    this.visited.fill(0);
  }

  private slotOf(g: number, value: number): number {
    const { bins, lowest, base, slots } = this.grid;
    const b = Math.floor(((value - this.origin) / this.span) * bins[g]) - lowest[g];
    return base[g] + Math.min(slots[g] - 1, Math.max(0, b));
  }
}
