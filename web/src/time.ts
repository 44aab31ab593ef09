// Durations and times as the query page's inputs and URLs write them, in
// Prometheus's forms: durations such as 1h or 1d12h, and times as
// "YYYY-MM-DD HH:mm:ss" in UTC.

const units: Record<string, number> = { y: 31536000, w: 604800, d: 86400, h: 3600, m: 60, s: 1, ms: 0.001 };

/** parseDuration reads a Prometheus duration (1h30m, 90s, 2w) in seconds, or null. */
export function parseDuration(text: string): number | null {
  const s = text.trim();
  if (s === '') return null;
  if (/^\d+(\.\d+)?$/.test(s)) return Number(s);
  const re = /(\d+)(ms|y|w|d|h|m|s)/y;
  let total = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s)) !== null) {
    total += Number(m[1]) * units[m[2]];
    if (re.lastIndex === s.length) return total > 0 ? total : null;
  }
  return null;
}

/** formatDuration writes seconds as a Prometheus duration: 3600 → 1h, 5400 → 1h30m. */
export function formatPromDuration(seconds: number): string {
  if (seconds <= 0) return '0s';
  let rest = Math.round(seconds * 1000);
  let out = '';
  for (const [unit, n] of [['y', 31536000], ['w', 604800], ['d', 86400], ['h', 3600], ['m', 60], ['s', 1]] as const) {
    const ms = n * 1000;
    if (rest >= ms) {
      out += `${Math.floor(rest / ms)}${unit}`;
      rest %= ms;
    }
  }
  if (rest > 0) out += `${rest}ms`;
  return out;
}

/** parseTime reads "YYYY-MM-DD HH:mm:ss" (UTC), an RFC 3339 time or Unix seconds, in milliseconds, or null. */
export function parseTime(text: string): number | null {
  const s = text.trim();
  if (s === '') return null;
  if (/^\d+(\.\d+)?$/.test(s)) return Number(s) * 1000;
  const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2}))?$/.exec(s);
  if (m) {
    return Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +(m[6] ?? 0));
  }
  const t = Date.parse(s);
  return Number.isNaN(t) ? null : t;
}

/** formatTime writes milliseconds as "YYYY-MM-DD HH:mm:ss" in UTC. */
export function formatTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}
