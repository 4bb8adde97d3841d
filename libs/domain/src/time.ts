// Time helpers. The decider never reads the clock: every instant comes in through
// a command's metadata (`now`) or its data (`occurredAt`, `asOf`).
//
// Member state keeps instants as whole epoch SECONDS (compact, exact in JSON);
// events keep ISO strings. Instants the decider creates (lot expiry) are computed
// from `now` truncated to the second, so the state never loses precision.

export const SECOND = 1;
export const DAY_S = 86_400;

/** ISO 8601 date-time with a mandatory offset (Z or ±hh:mm). */
export const ISO_WITH_OFFSET = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;
/** YYYY-MM-DD */
export const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

const ISO_PARTS = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(?:(Z)|([+-])(\d{2}):(\d{2}))$/;

// A few recent parses: a command's instants are parsed again by evolve.
const CACHE_SIZE = 8;
const cacheKeys: string[] = new Array(CACHE_SIZE).fill('');
const cacheVals: number[] = new Array(CACHE_SIZE).fill(NaN);
let cacheNext = 0;

/** Parses an ISO 8601 instant with offset to epoch ms; NaN when malformed or not a real calendar date. */
export function parseInstant(iso: string): number {
  for (let i = 0; i < CACHE_SIZE; i++) if (cacheKeys[i] === iso) return cacheVals[i];
  const v = parseInstantUncached(iso);
  cacheKeys[cacheNext] = iso;
  cacheVals[cacheNext] = v;
  cacheNext = (cacheNext + 1) % CACHE_SIZE;
  return v;
}

function parseInstantUncached(iso: string): number {
  const m = ISO_PARTS.exec(iso);
  if (m === null) return NaN;
  const year = +m[1];
  const month = +m[2];
  const day = +m[3];
  const hour = +m[4];
  const minute = +m[5];
  const second = m[6] === undefined ? 0 : +m[6];
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month) || hour > 23 || minute > 59 || second > 59) return NaN;
  const ms = m[7] === undefined ? 0 : +(m[7] + '00').slice(0, 3);
  let offsetMin = 0;
  if (m[8] === undefined) {
    const oh = +m[10];
    const om = +m[11];
    if (oh > 23 || om > 59) return NaN;
    offsetMin = (m[9] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  return Date.UTC(year, month - 1, day, hour, minute, second, ms) - offsetMin * 60_000;
}

export function isIsoDate(s: string): boolean {
  const m = ISO_DATE.exec(s);
  if (m === null) return false;
  const month = +m[2];
  const day = +m[3];
  return month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(+m[1], month);
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
export function daysInMonth(year: number, month1: number): number {
  if (month1 === 2 && ((year % 4 === 0 && year % 100 !== 0) || year % 400 === 0)) return 29;
  return DAYS_IN_MONTH[month1 - 1];
}

/** Epoch seconds (floored) of an ISO instant. Throws on a malformed instant. */
export function toSeconds(iso: string): number {
  const ms = parseInstant(iso);
  if (Number.isNaN(ms)) {
    // Instants inside events were validated when decided; tolerate any Date.parse-able form.
    const loose = Date.parse(iso);
    if (Number.isNaN(loose)) throw new RangeError(`not an ISO 8601 instant: ${iso}`);
    return Math.floor(loose / 1000);
  }
  return Math.floor(ms / 1000);
}

let lastIsoS = NaN;
let lastIso = '';
export function secondsToIso(s: number): string {
  if (s === lastIsoS) return lastIso;
  lastIso = new Date(s * 1000).toISOString();
  lastIsoS = s;
  return lastIso;
}

/** Adds calendar months in UTC, clamping the day (2024-02-29 + 12 months = 2025-02-28). */
export function addMonthsSeconds(s: number, months: number): number {
  const days = Math.floor(s / DAY_S);
  const secOfDay = s - days * DAY_S;
  // civil-from-days (H. Hinnant), no Date allocation
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  const total = y * 12 + (m - 1) + months;
  const ty = Math.floor(total / 12);
  const tm = total - ty * 12 + 1;
  const td = Math.min(d, daysInMonth(ty, tm));
  return Date.UTC(ty, tm - 1, td) / 1000 + secOfDay;
}

/** UTC calendar year and month (1-12) of an instant, in the offset it was given in. */
export function localYearMonth(iso: string): { year: number; month: number } {
  // The birthday month is the member's local month: use the date part as written.
  const m = ISO_WITH_OFFSET.exec(iso);
  if (m !== null) return { year: +m[1], month: +m[2] };
  const d = new Date(iso);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1 };
}
