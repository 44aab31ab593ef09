// Values as a panel's unit prints them, by Grafana's unit names, which
// dashboard blocks take (hclconfig.PanelUnits).

const si = ['', 'k', 'M', 'G', 'T', 'P', 'E'];
const iec = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'];

/** scaled writes v in steps of base with the prefixes, then suffix. */
function scaled(v: number, base: number, prefixes: string[], suffix: string, decimals: number | undefined): string {
  let i = 0;
  let x = v;
  while (Math.abs(x) >= base && i < prefixes.length - 1) {
    x /= base;
    i++;
  }
  return `${fixed(x, decimals)} ${prefixes[i]}${suffix}`.trim();
}

/** fixed writes x with decimals, or with as many as suit its size. */
function fixed(x: number, decimals: number | undefined): string {
  if (decimals !== undefined) return x.toFixed(decimals);
  const a = Math.abs(x);
  if (a === 0 || Number.isInteger(x)) return String(x);
  if (a >= 100) return x.toFixed(0);
  if (a >= 10) return x.toFixed(1);
  if (a >= 1) return x.toFixed(2);
  return x.toPrecision(2);
}

/** duration writes seconds as 1d 2h, 3m 4s, 250 ms. */
function duration(s: number, decimals: number | undefined): string {
  const a = Math.abs(s);
  if (a < 1e-6) return `${fixed(s * 1e9, decimals)} ns`;
  if (a < 1e-3) return `${fixed(s * 1e6, decimals)} µs`;
  if (a < 1) return `${fixed(s * 1e3, decimals)} ms`;
  if (a < 60) return `${fixed(s, decimals)} s`;
  const parts: string[] = [];
  let rest = Math.round(a);
  for (const [u, n] of [['y', 31536000], ['d', 86400], ['h', 3600], ['m', 60], ['s', 1]] as const) {
    if (rest >= n && parts.length < 2) {
      parts.push(`${Math.floor(rest / n)}${u}`);
      rest %= n;
    }
  }
  return (s < 0 ? '-' : '') + parts.join(' ');
}

/** formatValue writes v as unit says, with decimals when set. */
export function formatValue(v: number | null | undefined, unit = '', decimals?: number): string {
  if (v === null || v === undefined) return '';
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? '+Inf' : '-Inf';
  switch (unit) {
    case 'percent': return `${fixed(v, decimals)}%`;
    case 'percentunit': return `${fixed(v * 100, decimals)}%`;
    case 'bytes': return scaled(v, 1024, iec, 'B', decimals);
    case 'decbytes': return scaled(v, 1000, si, 'B', decimals);
    case 'bits': return scaled(v, 1024, iec, 'b', decimals);
    case 'decbits': return scaled(v, 1000, si, 'b', decimals);
    case 'Bps': return scaled(v, 1000, si, 'B/s', decimals);
    case 'binBps': return scaled(v, 1024, iec, 'B/s', decimals);
    case 'bps': return scaled(v, 1000, si, 'b/s', decimals);
    case 'binbps': return scaled(v, 1024, iec, 'b/s', decimals);
    case 'pps': return scaled(v, 1000, si, 'p/s', decimals);
    case 'ops': return scaled(v, 1000, si, 'ops/s', decimals);
    case 'reqps': return scaled(v, 1000, si, 'req/s', decimals);
    case 'rps': return scaled(v, 1000, si, 'rd/s', decimals);
    case 'wps': return scaled(v, 1000, si, 'wr/s', decimals);
    case 'iops': return scaled(v, 1000, si, 'io/s', decimals);
    case 'eps': return scaled(v, 1000, si, 'ev/s', decimals);
    case 'hertz': return scaled(v, 1000, si, 'Hz', decimals);
    case 's': case 'dtdurations': return duration(v, decimals);
    case 'ms': return duration(v / 1e3, decimals);
    case 'µs': return duration(v / 1e6, decimals);
    case 'ns': return duration(v / 1e9, decimals);
    case 'celsius': return `${fixed(v, decimals)} °C`;
    case 'rotrpm': return `${fixed(v, decimals)} rpm`;
    case 'watt': return scaled(v, 1000, si, 'W', decimals);
    case 'volt': return scaled(v, 1000, si, 'V', decimals);
    case 'bool': return v === 0 ? 'false' : 'true';
    case 'bool_yes_no': return v === 0 ? 'No' : 'Yes';
    case 'bool_on_off': return v === 0 ? 'Off' : 'On';
    case 'none': return fixed(v, decimals);
    default: return scaled(v, 1000, si, '', decimals);
  }
}

/** unitRange is the range a gauge of unit spans when the panel says none. */
export function unitRange(unit: string): [number, number] | null {
  if (unit === 'percent') return [0, 100];
  if (unit === 'percentunit') return [0, 1];
  return null;
}
