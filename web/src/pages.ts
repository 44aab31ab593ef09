// The operator's pages: each fetches one or two API endpoints and draws
// them. A page that fails to load says why in its error box.

import { errorText, v1, v2 } from './api';
import { ago, fill, formatDuration, h, labelBadges, table } from './dom';
import { highlightHCL } from './hcl';
import { formatPromDuration, parseDuration } from './time';

type Labels = Record<string, string>;

/** load draws a title and the result of draw, or the error it threw. */
async function load(root: HTMLElement, title: string, draw: (body: HTMLElement) => Promise<void>): Promise<void> {
  const body = h('div', { class: 'page-body' }, h('p', { class: 'loading' }, 'Loading…'));
  const errorBox = h('div', { class: 'error', role: 'alert' });
  fill(root, h('h1', null, title), errorBox, body);
  try {
    await draw(body);
  } catch (err) {
    body.replaceChildren();
    errorBox.textContent = errorText(err);
  }
}

function health(state: string): HTMLElement {
  return h('span', { class: `health health-${state.toLowerCase()}` }, state.toUpperCase());
}

/** filterBox is a text input that hides the rows of a page not matching it. */
function filterBox(onInput: (text: string) => void, ph: string): HTMLInputElement {
  return h('input', {
    type: 'search', class: 'filter', placeholder: ph, 'aria-label': ph,
    oninput: (e: Event) => onInput((e.target as HTMLInputElement).value.toLowerCase()),
  });
}

interface ActiveTarget {
  discoveredLabels: Labels;
  labels: Labels;
  scrapePool: string;
  scrapeUrl: string;
  lastError: string;
  lastScrape: string;
  lastScrapeDuration: number;
  health: string;
  scrapeInterval: string;
  scrapeTimeout: string;
}

interface DroppedTarget {
  discoveredLabels: Labels;
  scrapePool?: string;
}

interface TargetsData {
  activeTargets: ActiveTarget[];
  droppedTargets: DroppedTarget[];
}

/** targetsPage lists the targets by scrape pool, with health, last scrape, duration, error and labels. */
export function targetsPage(root: HTMLElement): Promise<void> {
  return load(root, 'Targets', async (body) => {
    const [{ data }, plugins] = await Promise.all([v1<TargetsData>('targets', { state: 'active' }), pluginBlocks()]);
    const pools = groupBy(data.activeTargets, (t) => t.scrapePool);
    let unhealthyOnly = false;
    let text = '';
    const sections = [...pools.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([pool, targets]) => {
      const up = targets.filter((t) => t.health === 'up').length;
      const rows = targets.map((t) => {
        const tr = h('tr', { class: 'target', 'data-health': t.health },
          h('td', null, h('a', { href: t.scrapeUrl }, t.scrapeUrl)),
          h('td', null, health(t.health)),
          h('td', null, labelBadges(t.labels),
            h('details', { class: 'discovered' }, h('summary', null, 'Before relabeling'), labelBadges(t.discoveredLabels))),
          h('td', null, ago(t.lastScrape)),
          h('td', null, formatDuration(t.lastScrapeDuration)),
          h('td', { class: 'target-error' }, t.lastError),
        );
        return tr;
      });
      const section = h('section', { class: 'pool', 'data-pool': pool },
        h('h2', null, pool, ' ', h('span', { class: up === targets.length ? 'count ok' : 'count bad' }, `(${up}/${targets.length} up)`),
          plugins.has(pluginAnchor('exporter', pool)) ? [' ', pluginLink('exporter', pool, `exporter plugin ${plugins.get(pluginAnchor('exporter', pool))}`)] : null),
        h('table', { class: 'targets' },
          h('thead', null, h('tr', null, ['Endpoint', 'State', 'Labels', 'Last scrape', 'Scrape duration', 'Error'].map((c) => h('th', null, c)))),
          h('tbody', null, rows)),
      );
      return { section, rows, targets };
    });
    const apply = () => {
      for (const s of sections) {
        let shown = 0;
        s.rows.forEach((tr, i) => {
          const t = s.targets[i];
          const show = (!unhealthyOnly || t.health !== 'up') &&
            (text === '' || `${t.scrapeUrl} ${JSON.stringify(t.labels)}`.toLowerCase().includes(text));
          tr.hidden = !show;
          if (show) shown++;
        });
        s.section.hidden = shown === 0;
      }
    };
    fill(body,
      h('div', { class: 'toolbar' },
        h('label', null, h('input', { type: 'checkbox', onchange: (e: Event) => { unhealthyOnly = (e.target as HTMLInputElement).checked; apply(); } }), ' Unhealthy only'),
        filterBox((v) => { text = v; apply(); }, 'Filter by endpoint or labels'),
      ),
      sections.length === 0 ? h('p', { class: 'empty' }, 'No targets.') : sections.map((s) => s.section),
    );
  });
}

/** serviceDiscoveryPage lists the discovered labels of every target and the labels relabeling made of them, or that it dropped it. */
export function serviceDiscoveryPage(root: HTMLElement): Promise<void> {
  return load(root, 'Service discovery', async (body) => {
    const { data } = await v1<TargetsData>('targets', { state: 'any' });
    const pools = new Map<string, { active: ActiveTarget[]; dropped: DroppedTarget[] }>();
    const pool = (name: string) => {
      if (!pools.has(name)) pools.set(name, { active: [], dropped: [] });
      return pools.get(name)!;
    };
    for (const t of data.activeTargets ?? []) pool(t.scrapePool).active.push(t);
    for (const t of data.droppedTargets ?? []) pool(t.scrapePool ?? t.discoveredLabels.job ?? '').dropped.push(t);
    const names = [...pools.keys()].sort();
    fill(body,
      names.length === 0 ? h('p', { class: 'empty' }, 'No targets discovered.') : h('ul', { class: 'toc' },
        names.map((n) => h('li', null, h('a', { href: `#pool-${n}` }, n), ` (${pools.get(n)!.active.length} active / ${pools.get(n)!.active.length + pools.get(n)!.dropped.length} total)`))),
      names.map((n) => {
        const p = pools.get(n)!;
        return h('section', { class: 'pool', id: `pool-${n}` },
          h('h2', null, n),
          table(['Discovered labels', 'Target labels'], [
            ...p.active.map((t) => [labelBadges(t.discoveredLabels), labelBadges(t.labels)]),
            ...p.dropped.map((t) => [labelBadges(t.discoveredLabels), h('span', { class: 'dropped' }, 'Dropped')]),
          ], 'sd'));
      }),
    );
  });
}

interface Alert {
  labels: Labels;
  annotations: Labels;
  state: string;
  activeAt?: string;
  value: string;
}

interface Rule {
  type: 'alerting' | 'recording';
  name: string;
  query: string;
  duration?: number;
  keepFiringFor?: number;
  labels?: Labels;
  annotations?: Labels;
  alerts?: Alert[];
  state?: string;
  health: string;
  lastError?: string;
  evaluationTime: number;
  lastEvaluation: string;
}

interface RuleGroup {
  name: string;
  file: string;
  rules: Rule[];
  interval: number;
  evaluationTime: number;
  lastEvaluation: string;
}

function queryLink(expr: string): HTMLElement {
  return h('a', { class: 'expr', href: `query?${new URLSearchParams({ 'g0.expr': expr, 'g0.tab': 'table' })}` }, expr);
}

/** rulesPage lists the rule groups with their evaluation time, and each rule's health and last error. */
export function rulesPage(root: HTMLElement): Promise<void> {
  return load(root, 'Rules', async (body) => {
    const { data } = await v1<{ groups: RuleGroup[] }>('rules');
    fill(body,
      data.groups.length === 0 ? h('p', { class: 'empty' }, 'No rule groups are loaded.') : null,
      data.groups.map((g) => h('section', { class: 'rule-group', 'data-group': g.name },
        h('h2', null, g.name),
        h('p', { class: 'meta' }, `${g.file} · every ${formatDuration(g.interval)} · last evaluation ${ago(g.lastEvaluation)}, took ${formatDuration(g.evaluationTime)}`),
        table(['Rule', 'Health', 'Last evaluation', 'Evaluation time', 'Error'], g.rules.map((r) => [
          h('div', { class: 'rule' },
            h('div', null, h('b', null, r.type === 'alerting' ? 'alert: ' : 'record: '), r.name),
            h('div', null, 'expr: ', queryLink(r.query)),
            r.duration ? h('div', null, `for: ${formatDuration(r.duration)}`) : null,
            r.labels && Object.keys(r.labels).length > 0 ? h('div', null, 'labels: ', labelBadges(r.labels)) : null,
          ),
          health(r.health),
          ago(r.lastEvaluation),
          formatDuration(r.evaluationTime),
          h('span', { class: 'target-error' }, r.lastError ?? ''),
        ]), 'rules'),
      )),
    );
  });
}

/** alertsPage lists the alerting rules by state, each with its active alerts and how far they are into their for. */
export function alertsPage(root: HTMLElement): Promise<void> {
  return load(root, 'Alerts', async (body) => {
    const { data } = await v1<{ groups: RuleGroup[] }>('rules', { type: 'alert' });
    const rules = data.groups.flatMap((g) => g.rules.filter((r) => r.type === 'alerting').map((r) => ({ group: g.name, rule: r })));
    const order = ['firing', 'pending', 'inactive'];
    const counts = Object.fromEntries(order.map((s) => [s, rules.filter((r) => (r.rule.state ?? 'inactive') === s).length]));
    fill(body,
      h('p', { class: 'summary' }, order.map((s) => h('span', { class: `state state-${s}` }, `${s}: ${counts[s]} `))),
      rules.length === 0 ? h('p', { class: 'empty' }, 'No alerting rules are loaded.') : null,
      order.map((state) => {
        const these = rules.filter((r) => (r.rule.state ?? 'inactive') === state);
        if (these.length === 0) return null;
        return h('section', { class: `alerts-${state}` },
          h('h2', null, state[0].toUpperCase() + state.slice(1)),
          these.map(({ group, rule }) => h('details', { class: `alert-rule state-${state}`, 'data-rule': rule.name, open: state !== 'inactive' },
            h('summary', null, h('b', null, rule.name), ` (${(rule.alerts ?? []).length} active) `, h('span', { class: 'meta' }, `group ${group}`)),
            h('div', { class: 'rule' },
              h('div', null, 'expr: ', queryLink(rule.query)),
              rule.duration ? h('div', null, `for: ${formatDuration(rule.duration)}`) : null,
              rule.labels && Object.keys(rule.labels).length > 0 ? h('div', null, 'labels: ', labelBadges(rule.labels)) : null,
            ),
            (rule.alerts ?? []).length > 0 ? table(['Labels', 'State', 'Active since', 'Value'], (rule.alerts ?? []).map((a) => [
              labelBadges(a.labels),
              a.state === 'pending' && rule.duration && a.activeAt
                ? h('span', { class: 'state state-pending' }, `pending ${forProgress(a.activeAt, rule.duration)}`)
                : h('span', { class: `state state-${a.state}` }, a.state),
              a.activeAt ? ago(a.activeAt) : '',
              a.value,
            ]), 'alerts') : null,
          )),
        );
      }),
    );
  });
}

/** forProgress says how far an alert is into its for: "(40% of 5m)". */
function forProgress(activeAt: string, duration: number): string {
  const elapsed = (Date.now() - Date.parse(activeAt)) / 1000;
  return `(${Math.min(100, Math.round((100 * elapsed) / duration))}% of ${formatDuration(duration)})`;
}

interface Matcher {
  name: string;
  value: string;
  isRegex: boolean;
  isEqual?: boolean;
}

interface Silence {
  id: string;
  matchers: Matcher[];
  startsAt: string;
  endsAt: string;
  createdBy: string;
  comment: string;
  status: { state: string };
}

function matcherText(m: Matcher): string {
  const op = (m.isEqual ?? true) ? (m.isRegex ? '=~' : '=') : (m.isRegex ? '!~' : '!=');
  return `${m.name}${op}${JSON.stringify(m.value)}`;
}

/** parseMatchers reads matchers written as {a="b", c=~"d.*"} or a="b",c!="d"; it throws on anything else. */
export function parseMatchers(text: string): Matcher[] {
  let s = text.trim();
  if (s.startsWith('{') && s.endsWith('}')) s = s.slice(1, -1);
  const out: Matcher[] = [];
  const re = /\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"\s*(,|$)/y;
  let m: RegExpExecArray | null;
  while (re.lastIndex < s.length && (m = re.exec(s)) !== null) {
    out.push({ name: m[1], value: JSON.parse(`"${m[3]}"`), isRegex: m[2].includes('~'), isEqual: !m[2].startsWith('!') });
    if (m[4] === '') break;
  }
  if (re.lastIndex !== s.length || out.length === 0) {
    throw new Error(`cannot read the matchers ${JSON.stringify(text)}: write them as name="value", separated by commas (=, !=, =~ and !~)`);
  }
  return out;
}

/** silencesPage lists the silences, creates one from a matcher editor or edits one, with a preview of the alerts it mutes, and expires them. */
export function silencesPage(root: HTMLElement): Promise<void> {
  const draw = () => silencesPage(root);
  return load(root, 'Silences', async (body) => {
    const silences = await v2<Silence[]>('GET', 'silences');
    // editing is the silence the form edits; null while it creates one.
    let editing: Silence | null = null;
    const formError = h('div', { class: 'error', role: 'alert' });
    const preview = h('div', { class: 'preview' });
    const title = h('h2', null, 'New silence');
    const matchers = h('input', { type: 'text', name: 'matchers', placeholder: 'alertname="HighLatency", instance=~"web-.*"', required: true, 'aria-label': 'Matchers' });
    const duration = h('input', { type: 'text', name: 'duration', value: '2h', 'aria-label': 'Duration', title: 'How long from now the silence lasts: 2h, 30m, 1d' });
    const createdBy = h('input', { type: 'text', name: 'createdBy', placeholder: 'your name', required: true, 'aria-label': 'Created by' });
    const comment = h('input', { type: 'text', name: 'comment', placeholder: 'why', required: true, 'aria-label': 'Comment' });
    const submit = h('button', { type: 'submit', class: 'primary' }, 'Create');
    const cancel = h('button', { type: 'button', class: 'cancel', hidden: true, onclick: () => startEdit(null) }, 'Cancel');
    const showPreview = async () => {
      preview.replaceChildren();
      let ms: Matcher[];
      try {
        ms = parseMatchers(matchers.value);
      } catch {
        return;
      }
      try {
        const q = new URLSearchParams();
        for (const m of ms) q.append('filter', matcherText(m));
        const alerts = await v2<{ labels: Labels }[]>('GET', `alerts?${q}`);
        fill(preview, h('p', null, `This silence mutes ${alerts.length} active alert${alerts.length === 1 ? '' : 's'} now.`),
          alerts.slice(0, 20).map((a) => h('div', null, labelBadges(a.labels))));
      } catch (err) {
        preview.textContent = errorText(err);
      }
    };
    matchers.addEventListener('change', showPreview);
    // startEdit fills the form with a silence to edit, or empties it to create one.
    const startEdit = (sil: Silence | null) => {
      editing = sil;
      formError.textContent = '';
      form.dataset.editing = sil?.id ?? '';
      title.textContent = sil ? `Edit silence ${sil.id}` : 'New silence';
      submit.textContent = sil ? 'Save' : 'Create';
      cancel.hidden = !sil;
      matchers.value = sil ? sil.matchers.map(matcherText).join(', ') : '';
      duration.value = sil ? formatPromDuration(Math.max(60, Math.round((Date.parse(sil.endsAt) - Date.now()) / 60000) * 60)) : '2h';
      createdBy.value = sil?.createdBy ?? '';
      comment.value = sil?.comment ?? '';
      void showPreview();
      if (sil) form.scrollIntoView();
    };
    const form = h('form', { class: 'silence-form', onsubmit: async (e: Event) => {
      e.preventDefault();
      formError.textContent = '';
      try {
        const secs = parseDuration(duration.value);
        if (secs === null) throw new Error(`cannot read the duration "${duration.value}": write one such as 2h or 30m`);
        const now = Date.now();
        // An edit posts the silence with its ID, as Alertmanager's API
        // takes it: one whose matchers are the same, and that is not
        // expired, keeps its ID and start; otherwise the server makes a
        // new silence and expires the old one.
        const starts = editing ? editing.startsAt : new Date(now).toISOString();
        await v2<{ silenceID: string }>('POST', 'silences', {
          ...(editing ? { id: editing.id } : {}),
          matchers: parseMatchers(matchers.value),
          startsAt: starts,
          endsAt: new Date(now + secs * 1000).toISOString(),
          createdBy: createdBy.value,
          comment: comment.value,
        });
        await draw();
      } catch (err) {
        formError.textContent = errorText(err);
      }
    } },
      title,
      h('label', null, 'Matchers ', matchers),
      h('label', null, 'Duration ', duration),
      h('label', null, 'Created by ', createdBy),
      h('label', null, 'Comment ', comment),
      submit,
      cancel,
      formError,
      preview,
    );
    const order = ['active', 'pending', 'expired'];
    const sorted = [...silences].sort((a, b) => order.indexOf(a.status.state) - order.indexOf(b.status.state));
    fill(body,
      form,
      h('h2', null, 'Silences'),
      sorted.length === 0 ? h('p', { class: 'empty' }, 'No silences.') : table(['Matchers', 'State', 'Starts', 'Ends', 'Created by', 'Comment', ''], sorted.map((s) => [
        h('code', null, s.matchers.map(matcherText).join(', ')),
        h('span', { class: `state state-${s.status.state}` }, s.status.state),
        new Date(s.startsAt).toISOString().slice(0, 19).replace('T', ' '),
        new Date(s.endsAt).toISOString().slice(0, 19).replace('T', ' '),
        s.createdBy,
        s.comment,
        s.status.state === 'expired' ? '' : h('span', { class: 'actions' },
          h('button', { type: 'button', class: 'edit', 'data-id': s.id, onclick: () => startEdit(s) }, 'Edit'),
          ' ',
          h('button', { type: 'button', class: 'expire', 'data-id': s.id, onclick: async () => {
            try {
              await v2('DELETE', `silence/${encodeURIComponent(s.id)}`);
              await draw();
            } catch (err) {
              formError.textContent = errorText(err);
            }
          } }, 'Expire')),
      ]), 'silences'),
    );
  });
}

interface AlertGroup {
  labels: Labels;
  receiver: { name: string };
  alerts: {
    labels: Labels;
    annotations?: Labels;
    startsAt: string;
    generatorURL?: string;
    fingerprint: string;
    status: { state: string; silencedBy: string[]; inhibitedBy: string[] };
  }[];
}

/** alertGroupsPage shows the dispatcher's groups: each group's labels and receiver, and its alerts, active or muted and by what. */
export function alertGroupsPage(root: HTMLElement): Promise<void> {
  return load(root, 'Alert groups', async (body) => {
    const [groups, plugins] = await Promise.all([v2<AlertGroup[]>('GET', 'alerts/groups'), pluginBlocks()]);
    const receiver = (name: string) => plugins.has(pluginAnchor('notifier', name))
      ? pluginLink('notifier', name, `${name} (notifier plugin ${plugins.get(pluginAnchor('notifier', name))})`)
      : name;
    fill(body,
      groups.length === 0 ? h('p', { class: 'empty' }, 'No alerts in the dispatcher (alerts reach it through a route block).') : null,
      groups.map((g) => h('section', { class: 'alert-group', 'data-receiver': g.receiver.name },
        h('h2', null, labelBadges(g.labels), ' ', h('span', { class: 'meta' }, '→ ', receiver(g.receiver.name), ` (${g.alerts.length} alert${g.alerts.length === 1 ? '' : 's'})`)),
        table(['Labels', 'State', 'Since', 'Source'], g.alerts.map((a) => [
          labelBadges(a.labels),
          h('span', { class: `state state-${a.status.state}` }, a.status.state,
            a.status.silencedBy.length > 0 ? h('div', { class: 'meta' }, 'silenced by ', a.status.silencedBy.map((id) => h('code', null, id, ' '))) : null,
            a.status.inhibitedBy.length > 0 ? h('div', { class: 'meta' }, `inhibited by ${a.status.inhibitedBy.length} alert(s)`) : null),
          ago(a.startsAt),
          a.generatorURL ? h('a', { href: a.generatorURL }, 'query') : '',
        ]), 'alert-group-alerts'),
      )),
    );
  });
}

function keyValues(obj: Record<string, unknown>): HTMLTableElement {
  return table(['Name', 'Value'], Object.keys(obj).map((k) => [k, typeof obj[k] === 'object' ? JSON.stringify(obj[k]) : String(obj[k])]), 'kv');
}

/** statusPage shows the build and runtime information. */
export function statusPage(root: HTMLElement): Promise<void> {
  return load(root, 'Status', async (body) => {
    const [build, runtime] = await Promise.all([
      v1<Record<string, unknown>>('status/buildinfo'),
      v1<Record<string, unknown>>('status/runtimeinfo'),
    ]);
    fill(body,
      h('section', { class: 'buildinfo' }, h('h2', null, 'Build information'), keyValues(build.data)),
      h('section', { class: 'runtimeinfo' }, h('h2', null, 'Runtime information'), keyValues(runtime.data)),
    );
  });
}

/** flagsPage shows the command-line flags in effect. */
export function flagsPage(root: HTMLElement): Promise<void> {
  return load(root, 'Command-line flags', async (body) => {
    const { data } = await v1<Record<string, string>>('status/flags');
    const sorted = Object.fromEntries(Object.entries(data).sort(([a], [b]) => a.localeCompare(b)));
    fill(body, keyValues(sorted));
  });
}

/** configPage shows the configuration in effect, highlighted. */
export function configPage(root: HTMLElement): Promise<void> {
  return load(root, 'Configuration', async (body) => {
    const { data } = await v1<{ yaml: string }>('status/config');
    fill(body,
      h('button', { type: 'button', onclick: () => void navigator.clipboard?.writeText(data.yaml) }, 'Copy to clipboard'),
      h('pre', { class: 'config' }, highlightHCL(data.yaml)),
    );
  });
}

interface TSDBStatus {
  headStats: Record<string, number>;
  seriesCountByMetricName: { name: string; value: number }[];
  labelValueCountByLabelName: { name: string; value: number }[];
  memoryInBytesByLabelName: { name: string; value: number }[];
  seriesCountByLabelValuePair: { name: string; value: number }[];
}

/** promLabel writes a label name as PromQL takes it in by (...): bare, or quoted when it is no plain identifier. */
function promLabel(name: string): string {
  return /^[a-zA-Z_][a-zA-Z0-9_]*$/.test(name) ? name : JSON.stringify(name);
}

/** tsdbState is what the address keeps of the TSDB page: how many entries a list shows, and the metric and label explored. */
function tsdbState(): { limit: string; metric: string; label: string } {
  const q = new URLSearchParams(location.search);
  const limit = q.get('limit') ?? '10';
  return { limit: ['10', '100', '1000'].includes(limit) ? limit : '10', metric: q.get('metric') ?? '', label: q.get('label') ?? '' };
}

function setTSDBState(st: { limit: string; metric: string; label: string }): void {
  const q = new URLSearchParams();
  if (st.limit !== '10') q.set('limit', st.limit);
  if (st.metric) q.set('metric', st.metric);
  if (st.label) q.set('label', st.label);
  const qs = q.toString();
  history.replaceState(null, '', qs ? `${location.pathname}?${qs}` : location.pathname);
}

/**
 * exploreMetric draws the cardinality of one metric into box: its series,
 * each of its labels with the number of values it takes, and, for the
 * label chosen, the values with the most series. The figures are PromQL
 * queries of the series now (count by the label).
 */
async function exploreMetric(box: HTMLElement, metric: string, label: string, choose: (label: string) => void): Promise<void> {
  const sel = `{__name__=${JSON.stringify(metric)}}`;
  fill(box, h('p', { class: 'loading' }, 'Loading…'));
  const scalarOf = async (expr: string): Promise<number> => {
    const { data } = await v1<{ result: { value: [number, string] }[] }>('query', { query: expr });
    return data.result.length > 0 ? Number(data.result[0].value[1]) : 0;
  };
  const [series, names] = await Promise.all([
    scalarOf(`count(${sel})`),
    v1<string[]>('labels', new URLSearchParams({ 'match[]': sel })).then((a) => a.data.filter((n) => n !== '__name__')),
  ]);
  const values = await Promise.all(names.map((n) => scalarOf(`count(count by (${promLabel(n)}) (${sel}))`)));
  const rows = names.map((n, i) => ({ name: n, values: values[i] })).sort((a, b) => b.values - a.values || a.name.localeCompare(b.name));
  let top: HTMLElement | null = null;
  if (label) {
    const { data } = await v1<{ result: { metric: Labels; value: [number, string] }[] }>('query', {
      query: `sort_desc(topk(20, count by (${promLabel(label)}) (${sel})))`,
    });
    top = h('section', { class: 'explore-values', 'data-label': label },
      h('h3', null, `The values of ${label} with the most series`),
      table([label, 'Series'], data.result.map((r) => [r.metric[label] ?? '', Number(r.value[1]).toLocaleString('en')]), 'kv'));
  }
  fill(box,
    h('h2', null, 'Cardinality of ', h('code', null, metric)),
    h('p', { class: 'meta' }, `${series.toLocaleString('en')} series now, ${names.length} label${names.length === 1 ? '' : 's'}. `,
      h('a', { href: `query?${new URLSearchParams({ 'g0.expr': `count by (__name__) (${sel})`, 'g0.tab': 'graph' })}` }, 'Graph its series count')),
    table(['Label', 'Values', ''], rows.map((r) => [
      h('code', null, r.name),
      r.values.toLocaleString('en'),
      h('button', { type: 'button', class: `explore-label${r.name === label ? ' active' : ''}`, 'data-label': r.name, onclick: () => choose(r.name) }, 'Top values'),
    ]), 'explore-labels'),
    top,
  );
}

/**
 * tsdbPage shows the store's statistics: head figures and the top
 * cardinalities, 10, 100 or 1,000 of each; a metric name opens the
 * cardinality explorer of that metric, its labels and their values.
 */
export function tsdbPage(root: HTMLElement): Promise<void> {
  return load(root, 'TSDB status', async (body) => {
    const st = tsdbState();
    const { data } = await v1<TSDBStatus>('status/tsdb', { limit: st.limit });
    const head = { ...data.headStats };
    for (const k of ['minTime', 'maxTime']) {
      if (typeof head[k] === 'number' && head[k] > 0) (head as Record<string, unknown>)[k] = `${new Date(head[k]).toISOString()} (${head[k]})`;
    }
    const explorer = h('section', { class: 'explorer' });
    const explore = (metric: string, label: string, scroll = true) => {
      st.metric = metric;
      st.label = label;
      setTSDBState(st);
      exploreMetric(explorer, metric, label, (l) => explore(metric, l)).catch((err) => {
        fill(explorer, h('div', { class: 'error', role: 'alert' }, errorText(err)));
      });
      if (scroll) explorer.scrollIntoView();
    };
    const top = (title: string, cls: string, col: string, rows: { name: string; value: number }[] | undefined, link = false) =>
      h('section', { class: cls }, h('h2', null, title), table(['Name', col], (rows ?? []).map((r) => [
        link ? h('button', { type: 'button', class: 'link explore-metric', 'data-metric': r.name, title: 'Explore its labels', onclick: () => explore(r.name, '') }, r.name) : r.name,
        r.value.toLocaleString('en'),
      ]), 'kv'));
    fill(body,
      h('div', { class: 'toolbar' },
        h('label', null, 'Show the top ', h('select', {
          name: 'limit',
          onchange: (e: Event) => {
            st.limit = (e.target as HTMLSelectElement).value;
            setTSDBState(st);
            void tsdbPage(root);
          },
        }, ['10', '100', '1000'].map((n) => h('option', { value: n, selected: n === st.limit }, n))), ' of each'),
        h('form', { class: 'explore-form', onsubmit: (e: Event) => {
          e.preventDefault();
          const v = ((e.target as HTMLFormElement).elements.namedItem('metric') as HTMLInputElement).value.trim();
          if (v) explore(v, '');
        } }, h('input', { type: 'search', name: 'metric', placeholder: 'Explore a metric name', 'aria-label': 'Explore a metric name', value: st.metric })),
      ),
      explorer,
      h('section', { class: 'head-stats' }, h('h2', null, 'Head'), keyValues(head)),
      top('Top series count by metric name', 'by-metric', 'Series', data.seriesCountByMetricName, true),
      top('Top label names by number of values', 'by-label', 'Values', data.labelValueCountByLabelName),
      top('Top label names by memory of their values', 'by-memory', 'Bytes', data.memoryInBytesByLabelName),
      top('Top series count by label pair', 'by-pair', 'Series', data.seriesCountByLabelValuePair),
    );
    if (st.metric) explore(st.metric, st.label, false);
  });
}

function groupBy<T>(items: T[], key: (t: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const it of items) {
    const k = key(it);
    if (!m.has(k)) m.set(k, []);
    m.get(k)!.push(it);
  }
  return m;
}

interface PluginCall {
  count: number;
  errors: number;
  averageSeconds: number;
  lastSeconds: number;
}

interface PluginInstance {
  name: string;
  kind: string;
  up: boolean;
  lastError: string;
  startedAt: string | null;
  restarts: number;
  calls: Record<string, PluginCall>;
}

/** PluginInfo is a plugin block as /api/v1/plugins answers it. */
export interface PluginInfo {
  name: string;
  kind: string;
  version: string;
  versionFrom: string;
  description: string;
  source: string;
  file: string;
  registry: boolean;
  constraint?: string;
  lockFile?: string;
  runtime: string;
  checksum: string;
  instances: PluginInstance[];
}

/** pluginAnchor is the id of a block's row on the plugins page: exporter-node, notifier-ops. */
export function pluginAnchor(kind: string, block: string): string {
  return `${kind}-${block}`;
}

/** pluginLink links to the row of a block on the plugins page. */
function pluginLink(kind: string, block: string, text: string): HTMLElement {
  return h('a', { class: 'plugin-link', href: `plugins#${encodeURIComponent(pluginAnchor(kind, block))}` }, text);
}

/** pluginBlocks fetches the plugins' instances by kind and block name; an empty map when the API refuses. */
async function pluginBlocks(): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  try {
    const { data } = await v1<PluginInfo[]>('plugins');
    for (const p of data) for (const i of p.instances) out.set(pluginAnchor(i.kind, i.name), p.name);
  } catch {
    // A caller that may not read the plugins sees no links to them.
  }
  return out;
}

function callsText(calls: Record<string, PluginCall>): HTMLElement {
  const names = Object.keys(calls).sort();
  if (names.length === 0) return h('span', { class: 'meta' }, 'no calls yet');
  return h('div', null, names.map((n) => {
    const c = calls[n];
    // A discovery call is a stream that lasts; its duration is no latency.
    if (n === 'discover') return h('div', { class: 'call', 'data-call': n }, `${n}: ${c.count} stream${c.count === 1 ? '' : 's'}`);
    return h('div', { class: 'call', 'data-call': n },
      `${n}: avg ${formatDuration(c.averageSeconds)}, last ${formatDuration(c.lastSeconds)} `,
      h('span', { class: 'meta' }, `(${c.count} call${c.count === 1 ? '' : 's'}, ${c.errors} failed)`));
  }));
}

/** pluginsPage lists every plugin block: kind, version, source, locked hash, and each block using it, up or down, with its restarts and call latency. */
export function pluginsPage(root: HTMLElement): Promise<void> {
  return load(root, 'Plugins', async (body) => {
    const { data } = await v1<PluginInfo[]>('plugins');
    const rows: HTMLTableRowElement[] = [];
    for (const p of data) {
      const pluginCells = () => [
        h('td', null, h('b', { id: `plugin-${p.name}` }, p.name), p.description ? h('div', { class: 'meta' }, p.description) : null),
        h('td', null, p.kind || h('span', { class: 'meta' }, 'unused')),
        h('td', null, p.version || h('span', { class: 'meta' }, 'unknown'), p.versionFrom ? h('div', { class: 'meta' }, `from the ${p.versionFrom}`) : null),
        h('td', { class: 'source' }, h('code', null, p.source),
          h('div', { class: 'meta' }, p.runtime === 'wasm' ? 'WebAssembly module' : 'program (gRPC)',
            p.registry ? `, from a registry${p.constraint ? ` (${p.constraint})` : ''}` : '')),
        h('td', { class: 'checksum' }, p.checksum
          ? h('code', { title: `sha256:${p.checksum}` }, `sha256:${p.checksum.slice(0, 12)}…`)
          : h('span', { class: 'meta' }, 'not pinned')),
      ];
      if (p.instances.length === 0) {
        rows.push(h('tr', { class: 'plugin', 'data-plugin': p.name }, pluginCells(), h('td', { colspan: 4, class: 'meta' }, 'No block uses it.')));
        continue;
      }
      p.instances.forEach((i, n) => {
        rows.push(h('tr', { id: pluginAnchor(i.kind, i.name), class: 'plugin', 'data-plugin': p.name, 'data-block': i.name },
          n === 0 ? pluginCells() : pluginCells().map((c) => { c.replaceChildren(); c.className = 'same'; return c; }),
          h('td', null, `${i.kind} "${i.name}"`),
          h('td', null, health(i.up ? 'up' : 'down'),
            i.up && i.startedAt ? h('div', { class: 'meta' }, `started ${ago(i.startedAt)}`) : null,
            i.lastError ? h('div', { class: 'target-error' }, i.lastError) : null),
          h('td', { class: 'restarts' }, String(i.restarts)),
          h('td', { class: 'calls' }, callsText(i.calls)),
        ));
      });
    }
    fill(body,
      data.length === 0 ? h('p', { class: 'empty' }, 'The configuration has no plugin blocks.') : h('table', { class: 'plugins' },
        h('thead', null, h('tr', null, ['Plugin', 'Kind', 'Version', 'Source', 'Locked hash', 'Block', 'State', 'Restarts', 'Call latency'].map((c) => h('th', null, c)))),
        h('tbody', null, rows)),
    );
    // The page is drawn after the browser looked for the address's
    // fragment (#notifier-ops, #plugin-webhook): mark and show the row it
    // names.
    const row = location.hash ? document.getElementById(decodeURIComponent(location.hash.slice(1)))?.closest('tr') : null;
    if (row) {
      row.classList.add('selected');
      row.scrollIntoView({ block: 'center' });
    }
  });
}
