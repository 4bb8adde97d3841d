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

/** Parses an ISO 8601 instant with offset; NaN when malformed or not a real calendar date. */
export function parseInstant(iso: string): number {
  const m = ISO_WITH_OFFSET.exec(iso);
  if (m === null) return NaN;
  const month = +m[2];
  const day = +m[3];
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(+m[1], month)) return NaN;
  if (+m[4] > 23 || +m[5] > 59 || (m[6] !== undefined && +m[6] > 59)) return NaN;
  const ms = Date.parse(iso);
  return Number.isFinite(ms) ? ms : NaN;
}

export function isIsoDate(s: string): boolean {
  const m = ISO_DATE.exec(s);
  if (m === null) return false;
  const month = +m[2];
  const day = +m[3];
  return month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(+m[1], month);
}

export function daysInMonth(year: number, month1: number): number {
  return new Date(Date.UTC(year, month1, 0)).getUTCDate();
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

export function secondsToIso(s: number): string {
  return new Date(s * 1000).toISOString();
}

/** Adds calendar months in UTC, clamping the day (2024-02-29 + 12 months = 2025-02-28). */
export function addMonthsSeconds(s: number, months: number): number {
  const d = new Date(s * 1000);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth() + months;
  const targetYear = y + Math.floor(m / 12);
  const targetMonth = ((m % 12) + 12) % 12;
  const day = Math.min(d.getUTCDate(), daysInMonth(targetYear, targetMonth + 1));
  return (
    Date.UTC(targetYear, targetMonth, day, d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()) / 1000
  );
}

/** UTC calendar year and month (1-12) of an instant, in the offset it was given in. */
export function localYearMonth(iso: string): { year: number; month: number } {
  // The birthday month is the member's local month: use the date part as written.
  const m = ISO_WITH_OFFSET.exec(iso);
  if (m !== null) return { year: +m[1], month: +m[2] };
  const d = new Date(iso);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1 };
}
