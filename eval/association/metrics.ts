/** accuracy and macro-F1 (mean F1 over the classes present in the truth, as the reference figures) */
export function scores(truth: readonly string[], predicted: readonly string[]): { accuracy: number; macroF1: number } {
  let correct = 0;
  const tp = new Map<string, number>();
  const fp = new Map<string, number>();
  const fn = new Map<string, number>();
  const inc = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);
  truth.forEach((t, i) => {
    const p = predicted[i];
    if (t === p) {
      correct++;
      inc(tp, t);
    } else {
      inc(fn, t);
      inc(fp, p);
    }
  });
  const classes = new Set(truth);
  let f1 = 0;
  for (const c of classes) {
    const a = tp.get(c) ?? 0;
    const prec = a + (fp.get(c) ?? 0) === 0 ? 0 : a / (a + (fp.get(c) ?? 0));
    const rec = a / (a + (fn.get(c) ?? 0));
    f1 += prec + rec === 0 ? 0 : (2 * prec * rec) / (prec + rec);
  }
  return { accuracy: truth.length ? correct / truth.length : 0, macroF1: classes.size ? f1 / classes.size : 0 };
}
