// Time-series charts with uPlot (loaded as a classic script before the modules, see index.html).

/** @typedef {import('uplot')} UPlot */
/** @typedef {import('uplot').Options} UPlotOptions */

/** @type {typeof import('uplot')} */
const uPlot = /** @type {any} */ (globalThis).uPlot;

const AXIS = { stroke: '#8b96a8', grid: { stroke: '#232a36', width: 1 }, ticks: { stroke: '#2c3442', width: 1 } };

/**
 * @typedef {object} TimeChartSpec
 * @property {string} title
 * @property {number[]} times epoch ms
 * @property {{ label: string, values: (number | null)[], color: string }[]} series
 * @property {(v: number) => string} format value formatter for the axis and the legend
 * @property {[number, number]} [firing] epoch ms range marked as the firing period
 * @property {{ value: number, spread?: number }} [expected] drawn as a dashed line with a shaded spread
 * @property {number} [height]
 */

/** half the span of a chart of a single point, s */
const LONE_POINT_SPAN_S = 1800;

/**
 * The time axis' range (epoch s) for the data's first and last times: one point alone (a new endpoint's first
 * window) gets half an hour either side, where uPlot would stretch the axis over years.
 * @param {number | null} min
 * @param {number | null} max
 * @returns {[number | null, number | null]}
 */
export function timeRange(min, max) {
  return min !== null && min === max ? [min - LONE_POINT_SPAN_S, max + LONE_POINT_SPAN_S] : [min, max];
}

/**
 * Draws a time-series chart into `container` (a <figure> is created with a caption); returns a disposer.
 * @param {HTMLElement} container
 * @param {TimeChartSpec} spec
 * @returns {() => void}
 */
export function timeChart(container, spec) {
  const xs = spec.times.map((t) => t / 1000);
  /** @type {UPlotOptions['hooks']} */
  const hooks = {
    drawClear: [
      (u) => {
        const { ctx, bbox } = u;
        ctx.save();
        if (spec.expected && Number.isFinite(spec.expected.value)) {
          const spread = spec.expected.spread ?? 0;
          const yTop = u.valToPos(spec.expected.value + spread, 'y', true);
          const yBottom = u.valToPos(Math.max(spec.expected.value - spread, u.scales.y.min ?? 0), 'y', true);
          if (spread > 0) {
            ctx.fillStyle = 'rgba(120, 170, 255, 0.10)';
            ctx.fillRect(bbox.left, yTop, bbox.width, Math.max(yBottom - yTop, 1));
          }
        }
        if (spec.firing) {
          const x0 = u.valToPos(spec.firing[0] / 1000, 'x', true);
          const x1 = u.valToPos(spec.firing[1] / 1000, 'x', true);
          const left = Math.max(bbox.left, Math.min(x0, x1));
          const width = Math.max(Math.abs(x1 - x0), 3 * devicePixelRatio);
          ctx.fillStyle = 'rgba(255, 90, 90, 0.18)';
          ctx.fillRect(left, bbox.top, width, bbox.height);
          ctx.strokeStyle = 'rgba(255, 110, 110, 0.9)';
          ctx.lineWidth = devicePixelRatio;
          ctx.beginPath();
          ctx.moveTo(left, bbox.top);
          ctx.lineTo(left, bbox.top + bbox.height);
          ctx.stroke();
        }
        ctx.restore();
      },
    ],
    draw: [
      (u) => {
        if (!spec.expected || !Number.isFinite(spec.expected.value)) return;
        const { ctx, bbox } = u;
        const y = u.valToPos(spec.expected.value, 'y', true);
        ctx.save();
        ctx.strokeStyle = 'rgba(150, 190, 255, 0.85)';
        ctx.setLineDash([6 * devicePixelRatio, 4 * devicePixelRatio]);
        ctx.lineWidth = devicePixelRatio;
        ctx.beginPath();
        ctx.moveTo(bbox.left, y);
        ctx.lineTo(bbox.left + bbox.width, y);
        ctx.stroke();
        ctx.restore();
      },
    ],
  };
  const width = Math.max(container.clientWidth, 280);
  /** @type {UPlotOptions} */
  const opts = {
    width,
    height: spec.height ?? 180,
    hooks,
    cursor: { drag: { x: true, y: false } },
    legend: { live: true },
    scales: {
      x: { time: true, range: (_u, min, max) => timeRange(min, max) },
      y: { range: (_u, min, max) => [Math.min(0, min), max > 0 ? max * 1.1 : 1] },
    },
    axes: [{ ...AXIS }, { ...AXIS, size: 60, values: (_u, splits) => splits.map((v) => spec.format(v)) }],
    series: [
      {},
      ...spec.series.map((s) => ({
        label: s.label,
        stroke: s.color,
        width: 1.5,
        fill: `${s.color}22`,
        points: { show: xs.length < 40 },
        value: (/** @type {UPlot} */ _u, /** @type {number | null} */ v) => (v === null ? '–' : spec.format(v)),
      })),
    ],
  };
  /** @type {import('uplot').AlignedData} */
  const data = [xs, ...spec.series.map((s) => s.values)];
  const caption = document.createElement('figcaption');
  caption.textContent = spec.title;
  const figure = document.createElement('figure');
  figure.className = 'chart';
  figure.setAttribute('role', 'group');
  figure.setAttribute('aria-label', describe(spec));
  figure.appendChild(caption);
  container.appendChild(figure);
  const plot = new uPlot(opts, data, figure);
  const resize = new ResizeObserver(() => {
    const w = Math.max(container.clientWidth, 280);
    if (Math.abs(w - plot.width) > 2) plot.setSize({ width: w, height: spec.height ?? 180 });
  });
  resize.observe(container);
  return () => {
    resize.disconnect();
    plot.destroy();
  };
}

/**
 * A text summary of the chart for screen readers.
 * @param {TimeChartSpec} spec
 */
function describe(spec) {
  const s = spec.series[0];
  const values = s ? s.values.filter((v) => v !== null) : [];
  if (values.length === 0) return `${spec.title}: no data`;
  const max = Math.max(.../** @type {number[]} */ (values));
  const last = /** @type {number} */ (values[values.length - 1]);
  return `${spec.title}: ${values.length} points, peak ${spec.format(max)}, latest ${spec.format(last)}`;
}
