/**
 * Sizes and durations as users type them on the command line, in HMP and in scenario files.
 * Sizes use binary units as QEMU reads them (K = 1024); a plain number is bytes. Durations are
 * virtual milliseconds; a plain number is ms. Bad input throws a UnitsError naming field and value.
 */

/** A size or duration that cannot be read; the message names the field and the value. */
export class UnitsError extends Error {
  override readonly name = 'UnitsError';

  constructor(
    readonly field: string,
    readonly value: string,
    message: string,
  ) {
    super(message);
  }
}

const SIZE_SHIFT: Record<string, number> = { '': 0, b: 0, k: 10, m: 20, g: 30, t: 40, p: 50, e: 60 };

const SIZE_HINT = 'expected a number with an optional K, M, G or T suffix (binary units, e.g. 512M or 4G); a plain number is bytes';

/**
 * Reads a size in bytes: `4G`, `512M`, `1.5G`, `4096`, `4KiB`. Suffixes are binary and case-blind
 * (QEMU's qemu_strtosz reads them so); a fraction needs a suffix and must give whole bytes.
 * A number argument (from a JSON scenario) is taken as bytes.
 */
export function parseSize(text: string | number, field: string): number {
  const raw = String(text);
  if (typeof text === 'number') {
    if (Number.isSafeInteger(text) && text >= 0) return text;
    throw new UnitsError(field, raw, `${field}: invalid size ${raw} (expected a whole number of bytes >= 0)`);
  }
  const match = /^\s*(\d+(?:\.\d+)?)\s*(?:([bkmgtpe])(?:(?<=[kmgtpe])ib)?)?\s*$/i.exec(text);
  if (!match) throw new UnitsError(field, raw, `${field}: invalid size "${raw}" (${SIZE_HINT})`);
  const digits = match[1]!;
  const suffix = (match[2] ?? '').toLowerCase();
  if (digits.includes('.') && (suffix === '' || suffix === 'b')) {
    throw new UnitsError(field, raw, `${field}: invalid size "${raw}" (a fraction needs a K, M, G or T suffix)`);
  }
  const bytes = Number(digits) * 2 ** SIZE_SHIFT[suffix]!;
  if (!Number.isInteger(bytes)) {
    throw new UnitsError(field, raw, `${field}: invalid size "${raw}" (not a whole number of bytes)`);
  }
  if (!Number.isSafeInteger(bytes)) {
    throw new UnitsError(field, raw, `${field}: size "${raw}" is too large (at most 8 PiB)`);
  }
  return bytes;
}

const DURATION_MS: Record<string, number> = { '': 1, ms: 1, s: 1000, sec: 1000, min: 60_000, h: 3_600_000 };

const DURATION_HINT = 'expected a number with an optional ms, s, min or h suffix, e.g. 500ms, 10s or 2min; a plain number is ms';

/** Reads a duration in (virtual) ms: `500ms`, `10s`, `1.5s`, `2min`, `1h`, `250` (ms). */
export function parseDuration(text: string | number, field: string): number {
  const raw = String(text);
  if (typeof text === 'number') {
    if (Number.isFinite(text) && text >= 0) return text;
    throw new UnitsError(field, raw, `${field}: invalid time ${raw} (expected a number of ms >= 0)`);
  }
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const unit = match?.[2]?.toLowerCase();
  if (!match || unit === undefined || !(unit in DURATION_MS)) {
    const hint = unit === 'm' ? 'use "min" for minutes or "ms" for milliseconds' : DURATION_HINT;
    throw new UnitsError(field, raw, `${field}: invalid time "${raw}" (${hint})`);
  }
  const ms = Number(match[1]) * DURATION_MS[unit]!;
  if (!Number.isFinite(ms)) throw new UnitsError(field, raw, `${field}: time "${raw}" is too large`);
  return ms;
}

/** Bytes as the largest exact binary unit: 4294967296 -> "4G", 1536 -> "1536" (bytes). */
export function formatSize(bytes: number): string {
  for (const [unit, shift] of [['T', 40], ['G', 30], ['M', 20], ['K', 10]] as const) {
    const scaled = bytes / 2 ** shift;
    if (bytes !== 0 && Number.isInteger(scaled)) return `${scaled}${unit}`;
  }
  return String(bytes);
}

/** Virtual ms for people: "250ms", "12.5s", "3min 20s", "2h 5min". */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${trim(ms)}ms`;
  if (ms < 60_000) return `${trim(ms / 1000)}s`;
  if (ms < 3_600_000) {
    const min = Math.floor(ms / 60_000);
    const s = (ms - min * 60_000) / 1000;
    return s === 0 ? `${min}min` : `${min}min ${trim(s)}s`;
  }
  const h = Math.floor(ms / 3_600_000);
  const min = Math.floor((ms - h * 3_600_000) / 60_000);
  return min === 0 ? `${h}h` : `${h}h ${min}min`;
}

function trim(n: number): string {
  return String(Math.round(n * 1000) / 1000);
}
