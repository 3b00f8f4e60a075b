import type { Detector, WindowMetrics } from '../../detectors/detector.js';

/**
 * A deliberately simple windowed detector for correlator tests: fires `error_burst` when a service-level window has
 * an error ratio above `threshold`. The real detectors have their own tests; this one keeps correlator tests exact.
 */
export function thresholdDetector(threshold = 0.5): Detector & { windows: WindowMetrics[] } {
  const windows: WindowMetrics[] = [];
  let fired = 0;
  return {
    type: 'test_threshold',
    windows,
    onWindow(w, ctx) {
      windows.push(w);
      if (w.endpoint !== undefined || w.count === 0 || w.errorRatio <= threshold) return;
      fired++;
      ctx.emit({
        kind: 'error_burst',
        severity: 'high',
        service: w.service,
        at: w.start + w.widthMs,
        summary: `error ratio ${(w.errorRatio * 100).toFixed(0)}%`,
        recordIds: w.sampleIds,
        metrics: { errorRatio: w.errorRatio },
      });
    },
    snapshot: () => ({ fired }),
    restore: (s) => {
      fired = (s as { fired: number }).fired;
    },
  };
}
