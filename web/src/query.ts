// The query page: panels, each with a PromQL editor and a table (instant
// query) or a graph (range query). The state of every panel lives in the
// URL in Prometheus's parameter names (g0.expr, g0.tab, g0.range_input,
// g0.end_input, g0.step_input, g0.moment_input), so links made for
// Prometheus open the same view.

import { EditorView, keymap, placeholder } from '@codemirror/view';
import { EditorState, Prec } from '@codemirror/state';
import { defaultKeymap, history as editHistory, historyKeymap, insertNewlineAndIndent } from '@codemirror/commands';
import { autocompletion, closeBrackets, completionKeymap, completionStatus } from '@codemirror/autocomplete';
import { bracketMatching, defaultHighlightStyle, syntaxHighlighting } from '@codemirror/language';
import { PromQLExtension } from '@prometheus-io/codemirror-promql';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

import { basePath, errorText, v1 } from './api';
import { fill, h, seriesName, table } from './dom';
import { formatPromDuration, formatTime, parseDuration, parseTime } from './time';

/** Tab is what a panel shows: a table of an instant query, a graph of a range query, or the parsed expression. */
type Tab = 'table' | 'graph' | 'explain';

/** PanelState is what the URL keeps of a panel. */
interface PanelState {
  expr: string;
  tab: Tab;
  range: string; // g0.range_input, a duration
  end: string; // g0.end_input, empty for now
  step: string; // g0.step_input, empty for automatic
  moment: string; // g0.moment_input, empty for now
  stacked: boolean; // g0.display_mode=stacked (Prometheus 3), g0.stacked=1 (Prometheus 2)
  histogram: HistogramMode; // g0.histogram, Vigil's: how a graph shows native histograms
}

/** HistogramMode is how a graph shows native histograms: a line of their count, sum or average, or a heatmap of their buckets. */
type HistogramMode = 'count' | 'sum' | 'avg' | 'heatmap';

const histogramModes: Record<HistogramMode, string> = {
  count: 'count', sum: 'sum', avg: 'average (sum / count)', heatmap: 'heatmap of the buckets',
};

function parseHistogramMode(v: string): HistogramMode {
  return v in histogramModes ? v as HistogramMode : 'count';
}

/** readPanels reads the panels from the URL's query string. */
export function readPanels(search: URLSearchParams): PanelState[] {
  const panels: PanelState[] = [];
  for (let i = 0; search.has(`g${i}.expr`) || search.has(`g${i}.tab`); i++) {
    const p = (k: string) => search.get(`g${i}.${k}`) ?? '';
    panels.push({
      expr: p('expr'),
      tab: parseTab(p('tab')),
      range: p('range_input') || '1h',
      end: p('end_input'),
      step: p('step_input'),
      moment: p('moment_input'),
      stacked: p('display_mode') === 'stacked' || p('stacked') === '1',
      histogram: parseHistogramMode(p('histogram')),
    });
  }
  // The page before this UI took ?query=; keep its links working.
  if (panels.length === 0 && search.has('query')) {
    panels.push({ ...newPanel(), expr: search.get('query') ?? '' });
  }
  return panels;
}

/**
 * parseTab reads g0.tab: Prometheus 2 writes 0 for the graph and 1 for
 * the table; Prometheus 3 writes graph, table or explain. The default is
 * the table, as in Prometheus 3.
 */
export function parseTab(v: string): Tab {
  if (v === '0' || v === 'graph') return 'graph';
  return v === 'explain' ? 'explain' : 'table';
}

/** writePanels writes the panels as a query string, in Prometheus 3's form. */
export function writePanels(panels: PanelState[]): string {
  const q = new URLSearchParams();
  panels.forEach((s, i) => {
    q.set(`g${i}.expr`, s.expr);
    q.set(`g${i}.tab`, s.tab);
    q.set(`g${i}.range_input`, s.range);
    if (s.end) q.set(`g${i}.end_input`, s.end);
    if (s.step) q.set(`g${i}.step_input`, s.step);
    if (s.moment) q.set(`g${i}.moment_input`, s.moment);
    if (s.tab === 'graph') q.set(`g${i}.display_mode`, s.stacked ? 'stacked' : 'lines');
    if (s.tab === 'graph' && s.histogram !== 'count') q.set(`g${i}.histogram`, s.histogram);
  });
  return q.toString();
}

function newPanel(): PanelState {
  return { expr: '', tab: 'table', range: '1h', end: '', step: '', moment: '', stacked: false, histogram: 'count' };
}

/** One PromQL extension for every editor: completion from the server's API, with a cache. */
function promqlExtension(): PromQLExtension {
  return new PromQLExtension().setComplete({
    remote: { url: basePath, httpMethod: 'GET', cache: { maxAge: 5 * 60 * 1000 } },
  });
}

const palette = [
  '#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf',
];

/** Panel is one query with its editor, controls and result. */
class Panel {
  readonly el: HTMLElement;
  private readonly editor: EditorView;
  private readonly result = h('div', { class: 'result' });
  private readonly errorBox = h('div', { class: 'error', role: 'alert' });
  private readonly stats = h('div', { class: 'stats' });
  private readonly controls = h('div', { class: 'controls' });
  private plot: uPlot | null = null;
  private abort: AbortController | null = null;

  constructor(
    public state: PanelState,
    private readonly page: QueryPage,
  ) {
    this.editor = new EditorView({
      parent: h('div'),
      state: EditorState.create({
        doc: state.expr,
        extensions: [
          editHistory(),
          closeBrackets(),
          bracketMatching(),
          autocompletion(),
          syntaxHighlighting(defaultHighlightStyle, { fallback: true }),
          placeholder('Expression (press Enter to run, Shift+Enter for a new line)'),
          // Enter runs the query, unless the completion list is open:
          // then it takes the completion, or does nothing in the moment
          // after the list opened or changed, when the completion does
          // not take a key yet (so as not to take one by surprise).
          Prec.high(keymap.of([
            {
              key: 'Enter',
              run: (view) => {
                if (completionStatus(view.state) === 'active') return true;
                this.run();
                return true;
              },
            },
            { key: 'Shift-Enter', run: insertNewlineAndIndent },
          ])),
          keymap.of([...completionKeymap, ...historyKeymap, ...defaultKeymap]),
          promqlExtension().asExtension(),
          EditorView.lineWrapping,
        ],
      }),
    });
    this.el = h('section', { class: 'panel' },
      h('div', { class: 'editor-row' },
        h('div', { class: 'editor' }, this.editor.dom),
        h('button', { class: 'execute primary', type: 'button', onclick: () => this.run() }, 'Execute'),
        h('button', { class: 'remove', type: 'button', title: 'Remove this panel', onclick: () => this.page.remove(this) }, '×'),
      ),
      h('div', { class: 'tabs' },
        this.tabButton('table', 'Table'),
        this.tabButton('graph', 'Graph'),
        this.tabButton('explain', 'Explain'),
      ),
      this.controls,
      this.errorBox,
      this.stats,
      this.result,
    );
    this.drawControls();
  }

  private tabButton(tab: Tab, label: string): HTMLButtonElement {
    return h('button', {
      type: 'button',
      class: `tab${this.state.tab === tab ? ' active' : ''}`,
      'data-tab': tab,
      onclick: () => {
        if (this.state.tab === tab) return;
        this.state.tab = tab;
        this.el.querySelectorAll('.tab').forEach((b) => b.classList.toggle('active', b.getAttribute('data-tab') === tab));
        this.drawControls();
        this.run();
      },
    }, label);
  }

  /** drawControls shows the range, end and resolution for a graph, the evaluation time for a table. */
  private drawControls(): void {
    const input = (name: string, value: string, ph: string, set: (v: string) => void, title: string) =>
      h('input', {
        type: 'text', name, value, placeholder: ph, title, 'aria-label': title,
        onchange: (e: Event) => {
          set((e.target as HTMLInputElement).value.trim());
          this.run();
        },
      });
    if (this.state.tab === 'graph') {
      const shift = (factor: number) => () => {
        const r = parseDuration(this.state.range) ?? 3600;
        this.state.range = formatPromDuration(Math.max(1, factor > 1 ? r * 2 : r / 2));
        this.drawControls();
        this.run();
      };
      fill(this.controls,
        h('button', { type: 'button', title: 'Shorter range', onclick: shift(0.5) }, '−'),
        input('range', this.state.range, '1h', (v) => (this.state.range = v || '1h'), 'Range'),
        h('button', { type: 'button', title: 'Longer range', onclick: shift(2) }, '+'),
        input('end', this.state.end, 'End: now', (v) => (this.state.end = v), 'End time (UTC, YYYY-MM-DD HH:mm:ss)'),
        input('step', this.state.step, 'Resolution: auto', (v) => (this.state.step = v), 'Resolution (step)'),
        h('label', null, h('input', {
          type: 'checkbox', name: 'stacked', checked: this.state.stacked,
          onchange: (e: Event) => {
            this.state.stacked = (e.target as HTMLInputElement).checked;
            this.run();
          },
        }), ' Stacked'),
      );
    } else if (this.state.tab === 'explain') {
      fill(this.controls);
    } else {
      fill(this.controls,
        input('moment', this.state.moment, 'Evaluation time: now', (v) => (this.state.moment = v), 'Evaluation time (UTC, YYYY-MM-DD HH:mm:ss)'),
      );
    }
  }

  /** run runs the panel's query and shows its result. */
  async run(): Promise<void> {
    this.state.expr = this.editor.state.doc.toString();
    this.page.saveURL();
    this.abort?.abort();
    this.errorBox.textContent = '';
    this.stats.textContent = '';
    if (this.state.expr.trim() === '') {
      this.clearResult();
      return;
    }
    const abort = (this.abort = new AbortController());
    const started = performance.now();
    try {
      if (this.state.tab === 'graph') await this.runRange(abort.signal, started);
      else if (this.state.tab === 'explain') await this.runExplain(abort.signal);
      else await this.runInstant(abort.signal, started);
    } catch (err) {
      if (abort.signal.aborted) return;
      this.clearResult();
      this.errorBox.textContent = errorText(err);
    }
  }

  private clearResult(): void {
    this.plot?.destroy();
    this.plot = null;
    this.result.replaceChildren();
  }

  private showStats(started: number, series: number, samples: number, notes: { warnings?: string[]; infos?: string[] }): void {
    const ms = performance.now() - started;
    fill(this.stats,
      h('span', null, `Load time: ${Math.round(ms)}ms · Result series: ${series} · Samples: ${samples}`),
      (notes.warnings ?? []).map((w) => h('div', { class: 'warning' }, `Warning: ${w}`)),
      (notes.infos ?? []).map((w) => h('div', { class: 'info' }, `Info: ${w}`)),
    );
  }

  private async runInstant(signal: AbortSignal, started: number): Promise<void> {
    const params: Record<string, string> = { query: this.state.expr };
    const at = parseTime(this.state.moment);
    if (this.state.moment && at === null) throw new Error(`cannot read the evaluation time "${this.state.moment}"`);
    if (at !== null) params.time = String(at / 1000);
    const answer = await v1<QueryData>('query', params);
    if (signal.aborted) return;
    const { resultType, result } = answer.data;
    let rows: string[][] = [];
    let samples = 0;
    if (resultType === 'vector') {
      rows = (result as InstantSample[]).map((s) => [seriesName(s.metric), s.value ? s.value[1] : histogramText(s.histogram)]);
      samples = rows.length;
    } else if (resultType === 'matrix') {
      rows = (result as RangeSeries[]).map((s) => {
        const values = (s.values ?? []).map(([t, v]) => `${v} @${t}`);
        const hists = (s.histograms ?? []).map(([t, hv]) => `${histogramText([t, hv])} @${t}`);
        samples += values.length + hists.length;
        return [seriesName(s.metric), [...values, ...hists].join('\n')];
      });
    } else {
      const [, v] = result as [number, string];
      rows = [[resultType, v]];
      samples = 1;
    }
    this.clearResult();
    fill(this.result,
      rows.length === 0
        ? h('p', { class: 'empty' }, 'Empty query result')
        : table(['Series', 'Value'], rows, 'result-table'),
    );
    this.showStats(started, resultType === 'vector' || resultType === 'matrix' ? rows.length : 1, samples, answer);
  }

  /** runExplain shows the expression's syntax tree, as the server parses it. */
  private async runExplain(signal: AbortSignal): Promise<void> {
    const answer = await v1<AstNode>('parse_query', { query: this.state.expr });
    if (signal.aborted) return;
    this.clearResult();
    fill(this.result, h('ul', { class: 'explain' }, explainNode(answer.data)));
  }

  private async runRange(signal: AbortSignal, started: number): Promise<void> {
    const range = parseDuration(this.state.range);
    if (range === null) throw new Error(`cannot read the range "${this.state.range}": write a duration such as 1h or 30m`);
    const endMs = this.state.end ? parseTime(this.state.end) : Date.now();
    if (endMs === null) throw new Error(`cannot read the end time "${this.state.end}"`);
    const end = endMs / 1000;
    const start = end - range;
    let step = this.state.step ? parseDuration(this.state.step) : Math.max(Math.floor(range / 250), 1);
    if (step === null || step <= 0) throw new Error(`cannot read the resolution "${this.state.step}"`);
    const answer = await v1<QueryData>('query_range', {
      query: this.state.expr, start: String(start), end: String(end), step: String(step),
    });
    if (signal.aborted) return;
    const received = performance.now();
    if (answer.data.resultType !== 'matrix') throw new Error(`a graph needs a range vector, the query gave a ${answer.data.resultType}`);
    const series = answer.data.result as RangeSeries[];
    this.clearResult();
    let samples = 0;
    for (const s of series) samples += (s.values ?? []).length + (s.histograms ?? []).length;
    this.showStats(started, series.length, samples, answer);
    if (series.length === 0) {
      fill(this.result, h('p', { class: 'empty' }, 'Empty query result'));
      return;
    }
    this.drawRange(series, start, end, step, received);
  }

  /**
   * drawRange draws a range query's result: float series as lines, and
   * native histograms as the panel's histogram mode says, with a choice
   * of the mode above the graph when there are any.
   */
  private drawRange(series: RangeSeries[], start: number, end: number, step: number, received: number): void {
    const histograms = series.filter((s) => (s.histograms ?? []).length > 0).length;
    const graph = h('div', { class: 'graph' });
    const choice = histograms === 0 ? null : h('label', { class: 'histogram-mode' }, 'Native histograms as ',
      h('select', {
        name: 'histogram',
        onchange: (e: Event) => {
          this.state.histogram = parseHistogramMode((e.target as HTMLSelectElement).value);
          this.page.saveURL();
          this.clearResult();
          this.drawRange(series, start, end, step, performance.now());
        },
      }, Object.entries(histogramModes).map(([v, text]) => h('option', { value: v, selected: v === this.state.histogram }, text))));
    fill(this.result, choice, graph);
    if (histograms > 0 && this.state.histogram === 'heatmap') {
      const floats = series.length - histograms;
      if (floats > 0) this.result.insertBefore(h('p', { class: 'info' }, `The heatmap shows the ${histograms} series of native histograms, summed; ${floats} series of floats are left out.`), graph);
      this.drawHeatmap(graph, series, start, end, step, received);
      return;
    }
    const figure = this.state.histogram === 'heatmap' ? 'count' : this.state.histogram;
    const lines = series.map((s) => {
      const values: [number, number][] = (s.values ?? []).map(([t, v]) => [t, parseFloat(v)]);
      for (const [t, hv] of s.histograms ?? []) values.push([t, histogramFigure(hv, figure)]);
      if ((s.histograms ?? []).length > 0) values.sort((a, b) => a[0] - b[0]);
      return { label: seriesName(s.metric) + ((s.histograms ?? []).length > 0 ? ` (${figure})` : ''), values };
    });
    this.drawGraph(graph, lines, start, end, step, received);
  }

  /**
   * drawHeatmap draws the buckets of the native histograms of series,
   * summed, one column per time: a bucket's height is its range of
   * values (on a logarithmic scale when every bucket is above 0), and its
   * colour how many observations it holds, against the most any bucket
   * holds. The time axis spans the query's range and half a step on
   * either side, so that a single column has a width.
   */
  private drawHeatmap(graph: HTMLElement, series: RangeSeries[], start: number, end: number, step: number, received: number): void {
    const byTime = new Map<number, Map<string, { lo: number; hi: number; n: number }>>();
    for (const s of series) {
      for (const [t, hv] of s.histograms ?? []) {
        if (!byTime.has(t)) byTime.set(t, new Map());
        const col = byTime.get(t)!;
        for (const [, lo, hi, n] of hv.buckets ?? []) {
          const key = `${lo}|${hi}`;
          const b = col.get(key) ?? { lo: parseFloat(lo), hi: parseFloat(hi), n: 0 };
          b.n += parseFloat(n);
          col.set(key, b);
        }
      }
    }
    const xs = [...byTime.keys()].sort((a, b) => a - b);
    let max = 0;
    let minPos = Infinity;
    let lowest = Infinity;
    let lowestUpper = Infinity;
    let highest = -Infinity;
    for (const col of byTime.values()) {
      for (const b of col.values()) {
        max = Math.max(max, b.n);
        lowest = Math.min(lowest, b.lo);
        lowestUpper = Math.min(lowestUpper, b.hi);
        highest = Math.max(highest, b.hi);
        if (b.lo > 0) minPos = Math.min(minPos, b.lo);
      }
    }
    graph.dataset.series = String(series.filter((s) => (s.histograms ?? []).length > 0).length);
    graph.dataset.mode = 'heatmap';
    if (!Number.isFinite(highest)) {
      fill(graph, h('p', { class: 'empty' }, 'The histograms have no buckets to draw.'));
      return;
    }
    // A logarithmic scale, unless there are buckets of negative values,
    // from a power of ten, with logSplits' ticks (uPlot's own can step to
    // 0 and never end, from 2^-10 or from 1e-27); the zero bucket, which
    // reaches down to 0, is then a strip at the bottom, below the lowest
    // bound above 0.
    const log = lowestUpper >= 0 && highest > 0 && Number.isFinite(minPos);
    const yMin = log ? 10 ** Math.floor(Math.log10(minPos / 2)) : lowest;
    const totals = xs.map((t) => [...byTime.get(t)!.values()].reduce((a, b) => a + b.n, 0));
    const width = Math.max(300, this.result.clientWidth || this.el.clientWidth - 24);
    this.plot = new uPlot({
      width,
      height: 320,
      cursor: { drag: { x: false, y: false }, points: { show: false } },
      legend: { live: true },
      scales: { x: { time: true, range: [start - step / 2, end + step / 2] }, y: { distr: log ? 3 : 1, range: [yMin, highest] } },
      series: [
        { label: 'Time' },
        {
          label: 'observations in the buckets',
          stroke: 'transparent',
          points: { show: false },
          value: (_u: uPlot, _v: number | null, _si: number, idx: number | null) => (idx === null ? '' : String(totals[idx])),
        },
      ],
      axes: [{}, { size: 70, splits: log ? logSplits : undefined, values: (_u: uPlot, vals: (number | null)[]) => vals.map((v) => (v === null ? '' : formatValue(v))) }],
      hooks: {
        draw: [(u: uPlot) => {
          const ctx = u.ctx;
          ctx.save();
          ctx.beginPath();
          ctx.rect(u.bbox.left, u.bbox.top, u.bbox.width, u.bbox.height);
          ctx.clip();
          let drawn = 0;
          xs.forEach((t, i) => {
            const half = (i + 1 < xs.length ? xs[i + 1] - t : step) / 2;
            const x0 = u.valToPos(t - half, 'x', true);
            const x1 = u.valToPos(t + half, 'x', true);
            for (const b of byTime.get(t)!.values()) {
              if (b.n <= 0) continue;
              const zero = log && b.lo <= 0;
              const y0 = u.valToPos(zero ? yMin : b.lo, 'y', true);
              const y1 = u.valToPos(zero ? minPos : b.hi, 'y', true);
              ctx.fillStyle = `rgba(27, 95, 173, ${(0.08 + 0.92 * Math.sqrt(b.n / max)).toFixed(3)})`;
              ctx.fillRect(x0, Math.min(y0, y1), Math.max(1, x1 - x0), Math.max(1, Math.abs(y1 - y0)));
              drawn++;
            }
          });
          ctx.restore();
          graph.dataset.cells = String(drawn);
          if (!graph.dataset.renderMs) graph.dataset.renderMs = (performance.now() - received).toFixed(1);
        }],
      },
    }, [xs, xs.map(() => null)] as unknown as uPlot.AlignedData, graph);
  }

  /**
   * drawGraph draws the series with uPlot, one point per step; missing
   * points leave gaps. The time from received, when the answer arrived,
   * until uPlot has drawn the plot and its legend, is kept in the graph's
   * data-render-ms (a test reads it).
   */
  private drawGraph(graph: HTMLElement, series: { label: string; values: [number, number][] }[], start: number, end: number, step: number, received: number): void {
    const xs: number[] = [];
    const n = Math.floor((end - start) / step) + 1;
    const offGrid = series.some((s) => s.values.some(([t]) => Math.abs((t - start) / step - Math.round((t - start) / step)) > 1e-6));
    // Points come at start + k*step; if a series has others, take the union of its times.
    if (offGrid) {
      const all = new Set<number>();
      for (const s of series) for (const [t] of s.values) all.add(t);
      xs.push(...[...all].sort((a, b) => a - b));
    } else {
      for (let i = 0; i < n; i++) xs.push(start + i * step);
    }
    const index = new Map(xs.map((t, i) => [t, i]));
    const data: (number | null)[][] = [xs];
    for (const s of series) {
      const ys: (number | null)[] = new Array(xs.length).fill(null);
      for (const [t, v] of s.values) {
        const i = index.get(t);
        if (i !== undefined) ys[i] = v;
      }
      data.push(ys);
    }
    // Stacked, each series is drawn on top of the ones before it and
    // filled down to them; the legend still shows each series' own value.
    const raw = data.slice(1);
    if (this.state.stacked) {
      const sum: number[] = new Array(xs.length).fill(0);
      for (let si = 1; si < data.length; si++) {
        data[si] = data[si].map((v, i) => (v === null ? null : (sum[i] += v)));
      }
    }
    graph.dataset.series = String(series.length);
    graph.dataset.mode = this.state.stacked ? 'stacked' : 'lines';
    const width = Math.max(300, this.result.clientWidth || this.el.clientWidth - 24);
    this.plot = new uPlot({
      width,
      height: 320,
      cursor: { drag: { x: false, y: false } },
      legend: { live: true },
      scales: { x: { time: true } },
      series: [
        { label: 'Time' },
        ...series.map((s, i) => ({
          label: s.label,
          stroke: palette[i % palette.length],
          width: 1.5,
          spanGaps: false,
          points: { show: false },
          fill: this.state.stacked ? `${palette[i % palette.length]}55` : undefined,
          value: (_u: uPlot, _v: number | null, _si: number, idx: number | null) => {
            const v = idx === null ? null : raw[i][idx];
            return v === null || v === undefined ? '' : String(v);
          },
        })),
      ],
      axes: [{}, { size: 70 }],
      bands: this.state.stacked ? series.slice(1).map((_, i) => ({ series: [i + 2, i + 1] as [number, number] })) : undefined,
      hooks: {
        draw: [() => {
          if (!graph.dataset.renderMs) graph.dataset.renderMs = (performance.now() - received).toFixed(1);
        }],
      },
    }, data as uPlot.AlignedData, graph);
  }

  /** resize fits the graph to the panel's width. */
  resize(): void {
    if (this.plot) this.plot.setSize({ width: Math.max(300, this.result.clientWidth), height: 320 });
  }

  destroy(): void {
    this.abort?.abort();
    this.clearResult();
    this.editor.destroy();
    this.el.remove();
  }
}

/** AstNode is a node of the tree /api/v1/parse_query answers. */
interface AstNode {
  type: string;
  [field: string]: unknown;
}

/**
 * logSplits gives the ticks of a logarithmic axis from min to max: the
 * powers of ten between them, and 2 and 5 times them when that makes
 * fewer than two ticks.
 */
function logSplits(_u: uPlot, _axis: number, min: number, max: number): number[] {
  if (!(min > 0) || !(max >= min) || !Number.isFinite(max)) return [];
  const lo = Math.floor(Math.log10(min));
  const hi = Math.ceil(Math.log10(max));
  const splits: number[] = [];
  for (let e = lo; e <= hi; e++) {
    const v = 10 ** e;
    if (v >= min && v <= max) splits.push(v);
  }
  if (splits.length < 2) {
    for (let e = lo; e <= hi; e++) {
      for (const m of [2, 5]) {
        const v = m * 10 ** e;
        if (v >= min && v <= max) splits.push(v);
      }
    }
    splits.sort((a, b) => a - b);
  }
  return splits;
}

function isNode(v: unknown): v is AstNode {
  return typeof v === 'object' && v !== null && typeof (v as AstNode).type === 'string';
}

function ms(v: unknown): string {
  return typeof v === 'number' && v !== 0 ? formatPromDuration(v / 1000) : '';
}

/** explainNode draws a node of the syntax tree, what it does in words, and its children. */
function explainNode(n: AstNode): HTMLElement {
  let what = n.type;
  let children: unknown[] = [];
  switch (n.type) {
    case 'aggregation': {
      const grouping = (n.grouping as string[]) ?? [];
      what = `aggregation: ${n.op}${grouping.length > 0 || n.without ? ` ${n.without ? 'without' : 'by'} (${grouping.join(', ')})` : ''}`;
      children = [n.param, n.expr];
      break;
    }
    case 'binaryExpr': {
      const m = n.matching as { card: string; labels: string[]; on: boolean; include: string[] } | null;
      let matching = '';
      if (m && (m.on || m.labels.length > 0)) matching += ` ${m.on ? 'on' : 'ignoring'} (${m.labels.join(', ')})`;
      if (m && m.card === 'many-to-one') matching += ` group_left (${m.include.join(', ')})`;
      if (m && m.card === 'one-to-many') matching += ` group_right (${m.include.join(', ')})`;
      what = `binary operator: ${n.op}${n.bool ? ' bool' : ''}${matching}`;
      children = [n.lhs, n.rhs];
      break;
    }
    case 'call':
      what = `function: ${(n.func as { name: string }).name}()`;
      children = (n.args as unknown[]) ?? [];
      break;
    case 'vectorSelector':
    case 'matrixSelector': {
      const matchers = ((n.matchers as { name: string; value: string; type: string }[]) ?? [])
        .filter((m) => !(m.name === '__name__' && n.name))
        .map((m) => `${m.name}${m.type}${JSON.stringify(m.value)}`);
      const range = n.type === 'matrixSelector' ? `[${ms(n.range)}]` : '';
      const offset = ms(n.offset) ? ` offset ${ms(n.offset)}` : '';
      what = `${n.type === 'matrixSelector' ? 'range' : 'instant'} vector selector: ${n.name ?? ''}${matchers.length > 0 ? `{${matchers.join(', ')}}` : ''}${range}${offset}`;
      break;
    }
    case 'subquery':
      what = `subquery: [${ms(n.range)}:${ms(n.step)}]${ms(n.offset) ? ` offset ${ms(n.offset)}` : ''}`;
      children = [n.expr];
      break;
    case 'parenExpr':
      what = 'parentheses';
      children = [n.expr];
      break;
    case 'unaryExpr':
      what = `unary operator: ${n.op}`;
      children = [n.expr];
      break;
    case 'numberLiteral':
      what = `number: ${n.val}`;
      break;
    case 'stringLiteral':
      what = `string: ${JSON.stringify(n.val)}`;
      break;
  }
  const kids = children.filter(isNode);
  return h('li', { class: 'node', 'data-type': n.type },
    h('span', { class: 'node-text' }, what),
    kids.length > 0 ? h('ul', null, kids.map(explainNode)) : null,
  );
}

/** QueryData is the data of a query answer. */
interface QueryData {
  resultType: 'vector' | 'matrix' | 'scalar' | 'string';
  result: InstantSample[] | RangeSeries[] | [number, string];
}

interface InstantSample {
  metric: Record<string, string>;
  value?: [number, string];
  histogram?: [number, NativeHistogram];
}

interface RangeSeries {
  metric: Record<string, string>;
  values?: [number, string][];
  histograms?: [number, NativeHistogram][];
}

interface NativeHistogram {
  count: string;
  sum: string;
  buckets?: [number, string, string, string][];
}

/** formatValue writes an axis value with three significant digits at most: 0.0015, 2.5e-7, 120000. */
function formatValue(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a < 1e-4 || a >= 1e9 ? v.toExponential(1).replace('.0e', 'e') : String(Number(v.toPrecision(3)));
}

/** histogramFigure is the count, sum or average (sum / count) of a native histogram. */
function histogramFigure(hv: NativeHistogram, figure: 'count' | 'sum' | 'avg'): number {
  const count = parseFloat(hv.count);
  const sum = parseFloat(hv.sum);
  if (figure === 'count') return count;
  if (figure === 'sum') return sum;
  return count === 0 ? NaN : sum / count;
}

function histogramText(hv: [number, NativeHistogram] | undefined): string {
  if (!hv) return '';
  const [, hist] = hv;
  return `count=${hist.count} sum=${hist.sum} buckets=${(hist.buckets ?? []).length}`;
}

/** QueryPage holds the panels of the page. */
class QueryPage {
  private panels: Panel[] = [];
  private readonly list = h('div', { class: 'panels' });

  constructor(private readonly root: HTMLElement) {
    fill(root,
      this.list,
      h('button', { type: 'button', class: 'add-panel', onclick: () => this.add(newPanel(), true) }, 'Add panel'),
    );
    const states = readPanels(new URLSearchParams(location.search));
    if (states.length === 0) states.push(newPanel());
    for (const s of states) this.add(s, false);
    // Prometheus's own links point at /graph and /query; the URL is
    // rewritten to the same path with the page's state.
    this.saveURL();
    for (const p of this.panels) void p.run();
    let timer = 0;
    window.addEventListener('resize', () => {
      clearTimeout(timer);
      timer = window.setTimeout(() => this.panels.forEach((p) => p.resize()), 100);
    });
  }

  add(state: PanelState, focus: boolean): void {
    const p = new Panel(state, this);
    this.panels.push(p);
    this.list.appendChild(p.el);
    if (focus) (p.el.querySelector('.cm-content') as HTMLElement | null)?.focus();
    this.saveURL();
  }

  remove(p: Panel): void {
    this.panels = this.panels.filter((q) => q !== p);
    p.destroy();
    if (this.panels.length === 0) this.add(newPanel(), true);
    this.saveURL();
  }

  /** saveURL writes every panel's state into the address, without a new history entry. */
  saveURL(): void {
    const qs = writePanels(this.panels.map((p) => p.state));
    history.replaceState(null, '', `${location.pathname}?${qs}`);
  }
}

/** queryPage draws the query page into root. */
export function queryPage(root: HTMLElement): void {
  new QueryPage(root);
}
