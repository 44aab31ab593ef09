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

import { errorText, v1 } from './api';
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
  });
  return q.toString();
}

function newPanel(): PanelState {
  return { expr: '', tab: 'table', range: '1h', end: '', step: '', moment: '', stacked: false };
}

/** One PromQL extension for every editor: completion from the server's API, with a cache. */
function promqlExtension(): PromQLExtension {
  return new PromQLExtension().setComplete({
    remote: { url: '', httpMethod: 'GET', cache: { maxAge: 5 * 60 * 1000 } },
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
    for (const s of series) samples += (s.values ?? []).length;
    this.showStats(started, series.length, samples, answer);
    if (series.length === 0) {
      fill(this.result, h('p', { class: 'empty' }, 'Empty query result'));
      return;
    }
    this.drawGraph(series, start, end, step, received);
  }

  /**
   * drawGraph draws the series with uPlot, one point per step; missing
   * points leave gaps. The time from received, when the answer arrived,
   * until uPlot has drawn the plot and its legend, is kept in the graph's
   * data-render-ms (a test reads it).
   */
  private drawGraph(series: RangeSeries[], start: number, end: number, step: number, received: number): void {
    const xs: number[] = [];
    const n = Math.floor((end - start) / step) + 1;
    const offGrid = series.some((s) => (s.values ?? []).some(([t]) => Math.abs((t - start) / step - Math.round((t - start) / step)) > 1e-6));
    // Points come at start + k*step; if a series has others, take the union of its times.
    if (offGrid) {
      const all = new Set<number>();
      for (const s of series) for (const [t] of s.values ?? []) all.add(t);
      xs.push(...[...all].sort((a, b) => a - b));
    } else {
      for (let i = 0; i < n; i++) xs.push(start + i * step);
    }
    const index = new Map(xs.map((t, i) => [t, i]));
    const data: (number | null)[][] = [xs];
    for (const s of series) {
      const ys: (number | null)[] = new Array(xs.length).fill(null);
      for (const [t, v] of s.values ?? []) {
        const i = index.get(t);
        if (i !== undefined) ys[i] = parseFloat(v);
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
    const graph = h('div', { class: 'graph', 'data-series': series.length, 'data-mode': this.state.stacked ? 'stacked' : 'lines' });
    fill(this.result, graph);
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
          label: seriesName(s.metric),
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
