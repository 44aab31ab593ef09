// The dashboards: /dashboards lists them, /dashboards/NAME shows one, as
// its dashboard block in the configuration says (GET /api/v1/dashboards).
// The page's state is in its address, so that a link opens the same view:
// range (a duration back from end), end (a time; now when absent), refresh
// (a duration; off when absent or 0s), and var-NAME for each variable
// (repeated for several values; $__all for All), as in Grafana's links.

import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

import { basePath, errorText, v1 } from './api';
import { type Child, fill, h, seriesName, table } from './dom';
import { formatPromDuration, formatTime, parseDuration, parseTime } from './time';
import { formatValue, unitRange } from './units';

interface Summary {
  name: string;
  title: string;
  description?: string;
  tags?: string[];
  panels: number;
  builtin?: boolean;
  file?: string;
}

interface Variable {
  name: string;
  label?: string;
  kind: 'query' | 'custom' | 'interval';
  query?: string;
  regex?: string;
  values?: string[];
  default?: string;
  multi?: boolean;
  include_all?: boolean;
  hidden?: boolean;
}

interface Query {
  expr: string;
  legend?: string;
  instant?: boolean;
  step?: string;
}

interface Panel {
  title: string;
  type: 'timeseries' | 'stat' | 'gauge' | 'bar' | 'table' | 'heatmap';
  description?: string;
  unit?: string;
  decimals?: number;
  min?: number;
  max?: number;
  stacked?: boolean;
  grid?: number[];
  queries: Query[];
  thresholds?: { value: number; color: string }[];
}

interface Row {
  title: string;
  collapsed?: boolean;
  panels: Panel[];
}

interface Dashboard {
  name: string;
  title: string;
  description?: string;
  tags?: string[];
  refresh: string;
  range: string;
  variables: Variable[];
  panels: Panel[];
  rows: Row[];
}

/** NativeHistogram is a native histogram's sample as the API writes it. */
interface NativeHistogram {
  count: string;
  sum: string;
  buckets?: [number, string, string, string][];
}

interface Series {
  metric: Record<string, string>;
  values?: [number, string][];
  value?: [number, string];
  histograms?: [number, NativeHistogram][];
}

const ALL = '$__all';

const palette = [
  '#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf',
];

const ranges = ['5m', '15m', '30m', '1h', '3h', '6h', '12h', '1d', '2d', '7d', '30d'];
const refreshes = ['', '5s', '10s', '30s', '1m', '5m', '15m'];

/** dashboardsPage shows the list at /dashboards, or the dashboard at /dashboards/NAME. */
export async function dashboardsPage(root: HTMLElement): Promise<void> {
  // The path below the routes' prefix: /dashboards/node for /vigil/dashboards/node.
  const below = location.pathname.startsWith(`${basePath}/`) ? location.pathname.slice(basePath.length) : location.pathname;
  const name = decodeURIComponent(below.replace(/^\/dashboards\/?/, '').replace(/\/+$/, ''));
  if (name) return dashboardPage(root, name);
  fill(root, h('h1', null, 'Dashboards'), h('p', { class: 'loading' }, 'Loading…'));
  try {
    const { data } = await v1<Summary[]>('dashboards');
    fill(root, h('h1', null, 'Dashboards'),
      data.length === 0
        ? h('p', { class: 'empty' }, 'No dashboards: add dashboard blocks to the configuration, or turn server { builtin_dashboards } on.')
        : table(['Dashboard', 'Description', 'Tags', 'Panels', 'From'], data.map((d) => [
          h('a', { href: `dashboards/${encodeURIComponent(d.name)}`, class: 'dashboard-link' }, d.title),
          d.description ?? '',
          (d.tags ?? []).join(', '),
          d.panels,
          d.builtin ? 'built in' : d.file ?? '',
        ]), 'dashboards'));
  } catch (err) {
    fill(root, h('h1', null, 'Dashboards'), h('div', { class: 'error', role: 'alert' }, errorText(err)));
  }
}

/** VarState is a variable's values to choose from and those chosen. */
interface VarState {
  v: Variable;
  options: string[];
  chosen: string[];
  error?: string;
}

/** DashboardView is a dashboard drawn on the page. */
class DashboardView {
  private readonly params = new URLSearchParams(location.search);
  private readonly vars: VarState[] = [];
  private readonly varBar = h('div', { class: 'dash-vars' });
  private readonly body = h('div', { class: 'dash-body' });
  private readonly views: PanelView[] = [];
  private timer = 0;
  private generation = 0;

  constructor(private readonly root: HTMLElement, private readonly d: Dashboard) {}

  /** range is the range in seconds; end the end in ms, null for now. */
  get range(): number {
    return parseDuration(this.params.get('range') ?? '') ?? parseDuration(this.d.range) ?? 3600;
  }

  get end(): number | null {
    return parseTime(this.params.get('end') ?? '');
  }

  get refresh(): number {
    return parseDuration(this.params.get('refresh') ?? this.d.refresh) ?? 0;
  }

  /** setParam changes the address without loading the page again. */
  private setParam(key: string, values: string[]): void {
    this.params.delete(key);
    for (const v of values) this.params.append(key, v);
    history.replaceState(null, '', `${location.pathname}?${this.params}`);
  }

  async draw(): Promise<void> {
    const rangeInput = h('input', { type: 'text', name: 'range', value: formatPromDuration(this.range), list: 'dash-ranges', title: 'Range, back from the end' });
    const endInput = h('input', { type: 'text', name: 'end', value: this.end === null ? '' : formatTime(this.end), placeholder: 'now', title: 'End, UTC' });
    const refreshSelect = h('select', { name: 'refresh', title: 'Auto-refresh' },
      refreshes.map((r) => h('option', { value: r, selected: (parseDuration(r) ?? 0) === this.refresh }, r || 'off')));
    const apply = () => {
      const r = parseDuration(rangeInput.value);
      if (r !== null) this.setParam('range', [formatPromDuration(r)]);
      const e = parseTime(endInput.value);
      this.setParam('end', e === null ? [] : [formatTime(e)]);
      void this.reload(true);
    };
    rangeInput.addEventListener('change', apply);
    endInput.addEventListener('change', apply);
    refreshSelect.addEventListener('change', () => {
      this.setParam('refresh', [refreshSelect.value || '0s']);
      this.schedule();
    });
    fill(this.root,
      h('div', { class: 'dash-head' },
        h('h1', null, this.d.title),
        h('div', { class: 'controls dash-controls' },
          h('button', { type: 'button', title: 'Earlier', onclick: () => this.shift(-1) }, '‹'),
          rangeInput,
          h('datalist', { id: 'dash-ranges' }, ranges.map((r) => h('option', { value: r }))),
          h('button', { type: 'button', title: 'Later', onclick: () => this.shift(1) }, '›'),
          endInput,
          refreshSelect,
          h('button', { type: 'button', class: 'primary', onclick: apply }, 'Refresh'),
        )),
      this.d.description ? h('p', { class: 'meta' }, this.d.description) : null,
      this.varBar,
      this.body);
    for (const v of this.d.variables) this.vars.push({ v, options: [], chosen: [] });
    this.layout();
    await this.reload(true);
    this.schedule();
    let resizeTimer = 0;
    window.addEventListener('resize', () => {
      clearTimeout(resizeTimer);
      resizeTimer = window.setTimeout(() => this.views.forEach((p) => p.redraw()), 200);
    });
  }

  /** shift moves the range by half of it, earlier or later. */
  private shift(dir: number): void {
    const end = (this.end ?? Date.now()) + (dir * this.range * 1000) / 2;
    this.setParam('end', end >= Date.now() ? [] : [formatTime(end)]);
    location.assign(`${location.pathname}?${this.params}`);
  }

  private schedule(): void {
    clearInterval(this.timer);
    if (this.refresh > 0) this.timer = window.setInterval(() => void this.reload(false), this.refresh * 1000);
  }

  /** layout draws the sections: the panels above the rows, then each row. */
  private layout(): void {
    const sections: Child[] = [];
    const section = (panels: Panel[], folded: () => boolean) => {
      const grid = h('div', { class: 'dash-grid' });
      for (const p of panels) {
        const view = new PanelView(p, this, folded);
        this.views.push(view);
        grid.appendChild(view.el);
      }
      return grid;
    };
    if (this.d.panels.length > 0) sections.push(section(this.d.panels, () => false));
    for (const r of this.d.rows) {
      let collapsed = !!r.collapsed;
      const wrap = h('section', { class: `dash-row${collapsed ? ' collapsed' : ''}` });
      const grid = section(r.panels, () => collapsed);
      const head = h('h2', { class: 'dash-row-title', role: 'button', tabindex: 0 },
        h('span', { class: 'fold' }, collapsed ? '▸' : '▾'), ` ${r.title} `, h('span', { class: 'meta' }, `(${r.panels.length} panels)`));
      const toggle = () => {
        collapsed = !collapsed;
        wrap.classList.toggle('collapsed', collapsed);
        head.querySelector('.fold')!.textContent = collapsed ? '▸' : '▾';
        if (!collapsed) this.views.filter((v) => grid.contains(v.el)).forEach((v) => void v.load(this.generation));
      };
      head.addEventListener('click', toggle);
      head.addEventListener('keydown', (e) => { if ((e as KeyboardEvent).key === 'Enter') toggle(); });
      wrap.append(head, grid);
      sections.push(wrap);
    }
    fill(this.body, sections);
  }

  /** reload reads the variables' values again when asked, then every panel's data. */
  async reload(withVariables: boolean): Promise<void> {
    const gen = ++this.generation;
    if (withVariables) await this.loadVariables();
    if (gen !== this.generation) return;
    await Promise.all(this.views.map((v) => v.load(gen)));
  }

  /** window is the time range the panels show, in seconds. */
  window(): { start: number; end: number } {
    const end = (this.end ?? Date.now()) / 1000;
    return { start: end - this.range, end };
  }

  isCurrent(gen: number): boolean {
    return gen === this.generation;
  }

  /** loadVariables finds each variable's values, in order: one may use those before it. */
  private async loadVariables(): Promise<void> {
    for (const s of this.vars) {
      s.error = undefined;
      try {
        s.options = await this.variableValues(s.v);
      } catch (err) {
        s.options = [];
        s.error = errorText(err);
      }
      const wanted = this.params.getAll(`var-${s.v.name}`);
      const fromURL = wanted.filter((w) => w === ALL || s.options.includes(w) || s.v.kind !== 'query');
      if (fromURL.length > 0) s.chosen = s.v.multi ? fromURL : fromURL.slice(0, 1);
      else if (s.v.default) s.chosen = [s.v.default];
      else if (s.v.include_all && s.v.multi) s.chosen = [ALL];
      else s.chosen = s.options.slice(0, 1);
    }
    this.drawVariables();
  }

  private drawVariables(): void {
    fill(this.varBar, this.vars.filter((s) => !s.v.hidden).map((s) => {
      const opts = [...(s.v.include_all ? [ALL] : []), ...s.options];
      for (const c of s.chosen) if (!opts.includes(c)) opts.push(c);
      const select = h('select', { name: `var-${s.v.name}`, multiple: !!s.v.multi, size: s.v.multi ? Math.min(4, Math.max(2, opts.length)) : null },
        opts.map((o) => h('option', { value: o, selected: s.chosen.includes(o) }, o === ALL ? 'All' : o)));
      select.addEventListener('change', () => {
        s.chosen = [...select.selectedOptions].map((o) => o.value);
        this.setParam(`var-${s.v.name}`, s.chosen);
        void this.reload(true);
      });
      return h('label', { class: 'dash-var' }, h('span', null, s.v.label || s.v.name), select,
        s.error ? h('span', { class: 'error' }, s.error) : null,
        !s.error && opts.length === 0 ? h('span', { class: 'meta' }, 'no values') : null);
    }));
  }

  /** variableValues finds the values of a variable from the server, or its own. */
  private async variableValues(v: Variable): Promise<string[]> {
    if (v.kind !== 'query') return v.values ?? [];
    const q = v.query ?? '';
    const { start, end } = this.window();
    const times = { start: String(Math.floor(start)), end: String(Math.ceil(end)) };
    let values: string[] = [];
    let m: RegExpExecArray | null;
    if ((m = /^\s*label_values\(\s*(?:([\s\S]*)\s*,)?\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)\s*$/.exec(q))) {
      const label = m[2];
      const expr = m[1] ? this.substitute(m[1].trim(), 60) : '';
      if (!expr) {
        values = (await v1<string[]>(`label/${encodeURIComponent(label)}/values`, times)).data;
      } else {
        try {
          const { data } = await v1<Record<string, string>[]>('series', new URLSearchParams({ 'match[]': expr, ...times }));
          values = data.map((s) => s[label]);
        } catch {
          // Not a selector: the label of the expression's series at the end.
          const { data } = await v1<{ result: Series[] }>('query', { query: expr, time: times.end });
          values = data.result.map((s) => s.metric[label]);
        }
      }
    } else if ((m = /^\s*label_names\(([\s\S]*)\)\s*$/.exec(q))) {
      const params = new URLSearchParams(times);
      if (m[1].trim()) params.append('match[]', this.substitute(m[1].trim(), 60));
      values = (await v1<string[]>('labels', params)).data;
    } else if ((m = /^\s*metrics\(([\s\S]*)\)\s*$/.exec(q))) {
      const re = new RegExp(m[1].trim() || '.*');
      values = (await v1<string[]>('label/__name__/values', times)).data.filter((n) => re.test(n));
    } else if ((m = /^\s*query_result\(([\s\S]*)\)\s*$/.exec(q))) {
      const { data } = await v1<{ resultType: string; result: Series[] }>('query', { query: this.substitute(m[1].trim(), 60), time: times.end });
      values = data.result.map((s) => `${seriesName(s.metric)} ${s.value?.[1] ?? ''} ${(s.value?.[0] ?? 0) * 1000}`);
    } else {
      throw new Error(`${q} is not a query a variable takes`);
    }
    values = values.filter((x) => x !== undefined && x !== '');
    if (v.regex) {
      const re = new RegExp(v.regex);
      values = values.flatMap((x) => {
        const r = re.exec(x);
        if (!r) return [];
        return [r.groups?.value ?? r[1] ?? x];
      });
    }
    return [...new Set(values)].sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
  }

  /** substitute puts the variables' values into a query; step is its resolution in seconds. */
  substitute(expr: string, step: number): string {
    const range = this.range;
    const builtins: Record<string, string> = {
      __interval: formatPromDuration(step),
      __interval_ms: String(Math.round(step * 1000)),
      __rate_interval: formatPromDuration(Math.max(step + 15, 60)),
      __range: formatPromDuration(range),
      __range_s: String(Math.round(range)),
      __range_ms: String(Math.round(range * 1000)),
    };
    const value = (name: string): string | undefined => {
      if (name in builtins) return builtins[name];
      const s = this.vars.find((x) => x.v.name === name);
      if (!s) return undefined;
      if (s.chosen.includes(ALL)) return '.*';
      if (s.chosen.length > 1) return `(${s.chosen.map(escapeRegex).join('|')})`;
      return s.chosen[0] ?? '';
    };
    return expr.replace(/\$([A-Za-z_][A-Za-z0-9_]*)|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::[A-Za-z0-9_]+)?\}|\[\[([A-Za-z_][A-Za-z0-9_]*)(?::[A-Za-z0-9_]+)?\]\]/g,
      (whole, a?: string, b?: string, c?: string) => value((a ?? b ?? c)!) ?? whole);
  }

  /** unresolved names the variables of the dashboard without a value. */
  unresolved(): string[] {
    return this.vars.filter((s) => s.chosen.length === 0 || s.chosen.every((c) => c === '')).map((s) => s.v.name);
  }
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** legendOf names a series by the legend template, or by its labels. */
function legendOf(q: Query, metric: Record<string, string>): string {
  if (!q.legend) return seriesName(metric);
  return q.legend.replace(/\{\{\s*([^}\s]+)\s*\}\}/g, (_, l: string) => metric[l] ?? '');
}

/** colorOf is the color of the highest threshold value reaches; null for none. */
function colorOf(p: Panel, value: number): string | null {
  let color: string | null = null;
  for (const t of [...(p.thresholds ?? [])].sort((a, b) => a.value - b.value)) {
    if (value >= t.value) color = t.color;
  }
  return color;
}

/** Result is one series a panel shows. */
interface Result {
  name: string;
  metric: Record<string, string>;
  values: [number, number][];
  /** histograms are the samples of a native histogram, for heatmaps. */
  histograms?: [number, NativeHistogram][];
}

/** PanelView is a panel on the page: its frame, and its data once loaded. */
class PanelView {
  readonly el: HTMLElement;
  private readonly content = h('div', { class: 'dash-content' });
  private readonly status = h('div', { class: 'dash-status' });
  private readonly explore = h('a', { class: 'dash-explore', title: 'Open the queries in the query page' }, 'Query ↗');
  private plot: uPlot | null = null;
  private results: Result[] = [];
  private step = 60;
  private abort: AbortController | null = null;

  constructor(private readonly p: Panel, private readonly dash: DashboardView, private readonly folded: () => boolean) {
    const [x, y, w, hh] = p.grid && p.grid.length === 4 ? p.grid : [-1, -1, 12, 8];
    const style = x >= 0
      ? `grid-column: ${x + 1} / span ${w}; grid-row: ${y + 1} / span ${hh};`
      : `grid-column: span ${w}; grid-row: span ${hh};`;
    this.el = h('div', { class: `dash-panel dash-${p.type}`, style, 'data-state': 'waiting', 'data-title': p.title },
      h('div', { class: 'dash-head-line' }, h('div', { class: 'dash-title', title: p.description ?? '' }, p.title || '\u00a0'), this.explore),
      this.content, this.status);
  }

  /** load fetches the panel's data for generation gen, unless its row is folded. */
  async load(gen: number): Promise<void> {
    if (this.folded()) return;
    const missing = this.dash.unresolved().filter((n) => this.p.queries.some((q) => new RegExp(`\\$\\{?${n}\\b|\\[\\[${n}`).test(q.expr)));
    if (missing.length > 0) {
      this.show('empty', `No data: variable ${missing.map((n) => `$${n}`).join(', ')} has no value.`);
      return;
    }
    this.abort?.abort();
    this.abort = new AbortController();
    this.el.setAttribute('data-state', 'loading');
    const { start, end } = this.dash.window();
    const width = Math.max(100, this.el.clientWidth || 600);
    const instant = this.p.type !== 'timeseries' && this.p.type !== 'heatmap';
    const results: Result[] = [];
    const errors: string[] = [];
    // The link to the query page, in Prometheus's parameters, with the
    // variables put in.
    const link = new URLSearchParams();
    this.p.queries.forEach((q, i) => {
      link.set(`g${i}.expr`, this.dash.substitute(q.expr, Math.max(parseDuration(q.step ?? '') ?? 0, Math.ceil((end - start) / Math.min(width, 1000)), 1)));
      link.set(`g${i}.tab`, instant ? 'table' : 'graph');
      link.set(`g${i}.range_input`, formatPromDuration(end - start));
      if (this.dash.end !== null) link.set(`g${i}.${instant ? 'moment_input' : 'end_input'}`, formatTime(end * 1000));
    });
    this.explore.setAttribute('href', `query?${link}`);
    await Promise.all(this.p.queries.map(async (q) => {
      const minStep = parseDuration(q.step ?? '') ?? 0;
      const step = Math.max(minStep, Math.ceil((end - start) / Math.min(width, 1000)), 1);
      this.step = step;
      const expr = this.dash.substitute(q.expr, step);
      try {
        if (instant) {
          const { data } = await v1<{ resultType: string; result: Series[] | [number, string] }>('query', { query: expr, time: String(end) });
          const list: Series[] = data.resultType === 'scalar' ? [{ metric: {}, value: data.result as [number, string] }] : data.result as Series[];
          for (const s of list) {
            if (s.value) results.push({ name: legendOf(q, s.metric), metric: s.metric, values: [[s.value[0], parseFloat(s.value[1])]] });
          }
        } else {
          const { data } = await v1<{ result: Series[] }>('query_range', { query: expr, start: String(start), end: String(end), step: String(step) });
          for (const s of data.result) {
            results.push({
              name: legendOf(q, s.metric), metric: s.metric, values: (s.values ?? []).map(([t, v]) => [t, parseFloat(v)]), histograms: s.histograms,
            });
          }
        }
      } catch (err) {
        errors.push(errorText(err));
      }
    }));
    if (!this.dash.isCurrent(gen)) return;
    this.results = results;
    if (errors.length > 0 && results.length === 0) {
      this.show('error', `Error: ${errors.join('; ')}`);
    } else if (results.every((r) => r.values.length === 0 && !r.histograms?.length)) {
      this.show('empty', 'No data: the queries found no series in this range.');
    } else {
      this.show('data', errors.length > 0 ? `Some queries failed: ${errors.join('; ')}` : '');
    }
  }

  /** show sets the panel's state and message, and draws what it has. */
  private show(state: 'data' | 'empty' | 'error', message: string): void {
    this.el.setAttribute('data-state', state);
    this.status.textContent = message;
    this.status.className = `dash-status${state === 'error' ? ' error' : ''}`;
    this.redraw();
  }

  /** redraw draws the data loaded, to the panel's size. */
  redraw(): void {
    this.plot?.destroy();
    this.plot = null;
    if (this.el.getAttribute('data-state') !== 'data') {
      fill(this.content);
      return;
    }
    switch (this.p.type) {
      case 'timeseries': this.drawGraph(); break;
      case 'heatmap': this.drawHeatmap(); break;
      case 'stat': this.drawStat(); break;
      case 'gauge': this.drawGauge(); break;
      case 'bar': this.drawBars(); break;
      case 'table': this.drawTable(); break;
    }
  }

  private fmt(v: number | null | undefined): string {
    return formatValue(v, this.p.unit, this.p.decimals);
  }

  private drawGraph(): void {
    const times = new Set<number>();
    for (const r of this.results) for (const [t] of r.values) times.add(t);
    const xs = [...times].sort((a, b) => a - b);
    const index = new Map(xs.map((t, i) => [t, i]));
    const raw = this.results.map((r) => {
      const ys: (number | null)[] = new Array(xs.length).fill(null);
      for (const [t, v] of r.values) ys[index.get(t)!] = v;
      return ys;
    });
    const data: (number | null)[][] = [xs, ...raw.map((ys) => [...ys])];
    if (this.p.stacked) {
      const sum: number[] = new Array(xs.length).fill(0);
      for (let si = 1; si < data.length; si++) data[si] = data[si].map((v, i) => (v === null ? null : (sum[i] += v)));
    }
    const graph = h('div', { class: 'graph', 'data-series': this.results.length });
    fill(this.content, graph);
    const width = Math.max(150, this.content.clientWidth - 4);
    // The legend, under the graph, takes up to three lines of the panel.
    const legend = this.results.length <= 12;
    const height = Math.max(60, this.content.clientHeight - (legend ? Math.min(this.results.length, 3) * 17 + 6 : 0) - 4);
    const fmt = (v: number | null) => this.fmt(v);
    this.plot = new uPlot({
      width,
      height,
      cursor: { drag: { x: false, y: false } },
      legend: { show: legend, live: true },
      scales: { x: { time: true }, y: { range: (_u, lo, hi) => [this.p.min ?? lo, this.p.max ?? hi] } },
      series: [
        { label: 'Time' },
        ...this.results.map((r, i) => ({
          label: r.name,
          stroke: palette[i % palette.length],
          width: 1.2,
          points: { show: false },
          fill: this.p.stacked ? `${palette[i % palette.length]}55` : undefined,
          value: (_u: uPlot, _v: number | null, _si: number, idx: number | null) => fmt(idx === null ? null : raw[i][idx]),
        })),
      ],
      axes: [{}, { size: 70, values: (_u, vals) => vals.map((v) => fmt(v)) }],
      bands: this.p.stacked ? this.results.slice(1).map((_, i) => ({ series: [i + 2, i + 1] as [number, number] })) : undefined,
      // Thresholds are dashed lines across the graph, in their colors.
      hooks: {
        draw: [(u: uPlot) => {
          const ctx = u.ctx;
          for (const th of this.p.thresholds ?? []) {
            const y = u.valToPos(th.value, 'y', true);
            if (y < u.bbox.top || y > u.bbox.top + u.bbox.height) continue;
            ctx.save();
            ctx.strokeStyle = th.color;
            ctx.setLineDash([6, 4]);
            ctx.beginPath();
            ctx.moveTo(u.bbox.left, y);
            ctx.lineTo(u.bbox.left + u.bbox.width, y);
            ctx.stroke();
            ctx.restore();
          }
        }],
      },
    }, data as uPlot.AlignedData, graph);
  }

  /** drawHeatmap draws the buckets of a histogram over time: classic (series with le) or native. */
  private drawHeatmap(): void {
    // cells maps each time to the count of each bucket, by upper bound.
    const cells = new Map<number, Map<number, number>>();
    const add = (t: number, upper: number, v: number) => {
      if (!cells.has(t)) cells.set(t, new Map());
      const m = cells.get(t)!;
      m.set(upper, (m.get(upper) ?? 0) + Math.max(0, v));
    };
    const classic = this.results.filter((r) => r.metric.le !== undefined)
      .sort((a, b) => parseFloat(a.metric.le) - parseFloat(b.metric.le));
    // Classic buckets are cumulative: each is its count less the one below.
    const at = classic.map((b) => new Map(b.values));
    classic.forEach((b, i) => {
      for (const [t, v] of b.values) add(t, parseFloat(b.metric.le), v - (i > 0 ? at[i - 1].get(t) ?? 0 : 0));
    });
    for (const r of this.results) {
      for (const [t, hist] of r.histograms ?? []) {
        for (const [, , upper, count] of hist.buckets ?? []) add(t, parseFloat(upper), parseFloat(count));
      }
    }
    if (cells.size === 0) {
      this.el.setAttribute('data-state', 'empty');
      this.status.textContent = 'No data: a heatmap needs a histogram, native or of le buckets, as sum by (le) (rate(x_bucket[5m])).';
      return;
    }
    const times = [...cells.keys()].sort((a, b) => a - b);
    const bounds = [...new Set([...cells.values()].flatMap((m) => [...m.keys()]))].sort((a, b) => a - b);
    const peak = Math.max(...[...cells.values()].flatMap((m) => [...m.values()]), 0);
    const width = Math.max(150, this.content.clientWidth - 60);
    const height = Math.max(60, this.content.clientHeight - 20);
    const canvas = h('canvas', { width, height, class: 'heatmap' });
    const ctx = canvas.getContext('2d');
    if (ctx && peak > 0) {
      const cw = width / times.length;
      const ch = height / bounds.length;
      times.forEach((t, x) => bounds.forEach((b, y) => {
        const v = cells.get(t)!.get(b) ?? 0;
        if (v <= 0) return;
        ctx.fillStyle = `rgba(214, 39, 40, ${0.1 + 0.9 * (v / peak)})`;
        ctx.fillRect(x * cw, height - (y + 1) * ch, Math.ceil(cw), Math.ceil(ch));
      }));
    }
    const shown = bounds.length <= 8 ? bounds : [bounds[bounds.length - 1], bounds[Math.floor(bounds.length / 2)], bounds[0]];
    const labels = h('div', { class: 'heatmap-axis' }, [...shown].sort((a, b) => b - a).map((b) => h('div', null, Number.isFinite(b) ? this.fmt(b) : '+Inf')));
    fill(this.content, h('div', { class: 'heatmap-wrap', 'data-buckets': bounds.length }, labels, canvas),
      h('div', { class: 'meta' }, `${formatTime(times[0] * 1000)} – ${formatTime(times[times.length - 1] * 1000)}`));
  }

  private last(r: Result): number | null {
    return r.values.length > 0 ? r.values[r.values.length - 1][1] : null;
  }

  private drawStat(): void {
    fill(this.content, h('div', { class: 'stats-grid' }, this.results.map((r) => {
      const v = this.last(r);
      const color = v === null ? null : colorOf(this.p, v);
      return h('div', { class: 'stat' },
        h('div', { class: 'stat-value', style: color ? `color: ${color}` : null }, this.fmt(v)),
        this.results.length > 1 ? h('div', { class: 'stat-name' }, r.name) : null);
    })));
  }

  private drawGauge(): void {
    fill(this.content, h('div', { class: 'stats-grid' }, this.results.map((r) => {
      const v = this.last(r) ?? 0;
      const [lo, hi] = [this.p.min ?? unitRange(this.p.unit ?? '')?.[0] ?? 0, this.p.max ?? unitRange(this.p.unit ?? '')?.[1] ?? Math.max(v, 1)];
      const share = Math.min(1, Math.max(0, (v - lo) / (hi - lo || 1)));
      const color = colorOf(this.p, v) ?? '#2ca02c';
      const arc = (f: number) => {
        const a = Math.PI * (1 - f);
        return `${50 + 40 * Math.cos(a)} ${55 - 40 * Math.sin(a)}`;
      };
      const svg = `<svg viewBox="0 0 100 60" class="gauge-arc"><path d="M 10 55 A 40 40 0 0 1 90 55" stroke="#e4e8ec" stroke-width="9" fill="none"/>`
        + `<path d="M 10 55 A 40 40 0 0 1 ${arc(share)}" stroke="${color.replace(/"/g, '')}" stroke-width="9" fill="none"/></svg>`;
      const g = h('div', { class: 'gauge' });
      g.innerHTML = svg;
      g.append(h('div', { class: 'stat-value' }, this.fmt(v)), this.results.length > 1 ? h('div', { class: 'stat-name' }, r.name) : '');
      return g;
    })));
  }

  private drawBars(): void {
    const vals = this.results.map((r) => this.last(r) ?? 0);
    const lo = this.p.min ?? Math.min(0, ...vals);
    const hi = this.p.max ?? Math.max(...vals, lo + 1);
    fill(this.content, h('div', { class: 'bars' }, this.results.map((r, i) => {
      const share = Math.min(1, Math.max(0, (vals[i] - lo) / (hi - lo || 1)));
      const color = colorOf(this.p, vals[i]) ?? palette[i % palette.length];
      return h('div', { class: 'bar-row' },
        h('span', { class: 'bar-name', title: r.name }, r.name),
        h('span', { class: 'bar-track' }, h('span', { class: 'bar-fill', style: `width: ${(share * 100).toFixed(1)}%; background: ${color}` })),
        h('span', { class: 'bar-value' }, this.fmt(vals[i])));
    })));
  }

  private drawTable(): void {
    const labels = [...new Set(this.results.flatMap((r) => Object.keys(r.metric)))].sort();
    fill(this.content, table([...labels, 'Value'], this.results.map((r) => [...labels.map((l) => r.metric[l] ?? ''), this.fmt(this.last(r))]), 'dash-table'));
  }
}

async function dashboardPage(root: HTMLElement, name: string): Promise<void> {
  fill(root, h('p', { class: 'loading' }, 'Loading…'));
  try {
    const { data } = await v1<Dashboard>(`dashboards/${encodeURIComponent(name)}`);
    document.title = `${data.title} · Vigil`;
    await new DashboardView(root, data).draw();
  } catch (err) {
    fill(root, h('h1', null, 'Dashboard'), h('div', { class: 'error', role: 'alert' }, errorText(err)),
      h('p', null, h('a', { href: 'dashboards' }, 'All dashboards')));
  }
}
