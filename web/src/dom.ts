// A small helper to build DOM elements, in place of a framework: the pages
// are lists, tables and forms that are drawn again whole when their data
// changes.

/** Children h accepts: nodes, text, or nothing (skipped). */
export type Child = Node | string | number | null | undefined | false | Child[];

/** Attributes h accepts: on* functions become listeners, others attributes. */
export type Attrs = Record<string, string | number | boolean | EventListener | null | undefined>;

/** h makes an element with attributes and children. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs | null = null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2), value);
    } else if (value === true) {
      el.setAttribute(key, '');
    } else {
      el.setAttribute(key, String(value));
    }
  }
  append(el, children);
  return el;
}

/** fill replaces the children of el. */
export function fill(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  append(el, children);
}

function append(el: Node, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** table makes a table with a header row and one row per item. */
export function table(headers: string[], rows: Child[][], cls = ''): HTMLTableElement {
  return h('table', { class: cls || null },
    h('thead', null, h('tr', null, headers.map((t) => h('th', null, t)))),
    h('tbody', null, rows.map((r) => h('tr', null, r.map((c) => h('td', null, c))))),
  );
}

/** labelsText writes a label set as {a="1", b="2"}, with __name__ in front. */
export function seriesName(metric: Record<string, string>): string {
  const name = metric.__name__ ?? '';
  const labels = Object.keys(metric)
    .filter((k) => k !== '__name__')
    .sort()
    .map((k) => `${k}=${JSON.stringify(metric[k])}`);
  return `${name}{${labels.join(', ')}}`;
}

/** labelBadges shows a label set as one badge per label. */
export function labelBadges(labels: Record<string, string> | undefined): HTMLElement {
  return h('span', { class: 'labels' },
    Object.keys(labels ?? {}).sort().map((k) => h('span', { class: 'label' }, `${k}="${labels![k]}"`)));
}

/** ago says how long before now t was, as "3.2s ago". */
export function ago(t: string | undefined): string {
  if (!t || t.startsWith('0001-')) return 'never';
  const s = (Date.now() - Date.parse(t)) / 1000;
  return `${formatDuration(Math.max(0, s))} ago`;
}

/** formatDuration writes seconds as 1h2m3s, or in ms below a second. */
export function formatDuration(s: number): string {
  if (s < 1) return `${(s * 1000).toFixed(s < 0.01 ? 2 : 1)}ms`;
  if (s < 60) return `${s.toFixed(s < 10 ? 2 : 1)}s`;
  let rest = Math.round(s);
  const parts: string[] = [];
  for (const [unit, n] of [['d', 86400], ['h', 3600], ['m', 60], ['s', 1]] as const) {
    if (rest >= n) {
      parts.push(`${Math.floor(rest / n)}${unit}`);
      rest %= n;
    }
  }
  return parts.join('');
}
