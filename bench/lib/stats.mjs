// Small statistics and formatting helpers.

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export const min = (xs) => Math.min(...xs);
export const max = (xs) => Math.max(...xs);

/** MB/s (10^6 bytes per second). */
export const mbps = (bytes, ms) => bytes / (ms / 1e3) / 1e6;

/** A number with thin grouping and `digits` decimals. */
export function num(x, digits = 0) {
  if (x === undefined || x === null || Number.isNaN(x)) return '—';
  return x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** A ratio as `1.23×`. */
export function ratio(a, b) {
  if (!Number.isFinite(a) || !Number.isFinite(b) || b === 0) return '—';
  const r = a / b;
  return `${r >= 10 ? r.toFixed(1) : r.toFixed(2)}×`;
}

/** `median (min–max, n=…)` of samples already converted to the unit. */
export function spread(xs, digits = 0) {
  return `${num(median(xs), digits)} (${num(min(xs), digits)}–${num(max(xs), digits)}, n=${xs.length})`;
}

/** Rotates `items` by `k` so that no implementation always goes first. */
export function rotate(items, k) {
  const n = items.length;
  return items.map((_, i) => items[(i + k) % n]);
}

export const log = (msg) => process.stderr.write(`[bench] ${msg}\n`);
