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

// Instants parsed last, by kind of slot: the two last parsed (a command's instants are
// parsed again by evolve), written in turn; the instant secondsToIso last wrote (a lot's
// expiry: with one `now` per ledger batch it is formatted once per batch, while every
// purchase's occurredAt passes through the two above); a command's `now` (parseNow: the
// ledger stamps one `now` on every command of a batch, and the purchases' occurredAt pushed
// it out of the two slots every other purchase). A parse writes one slot, not two: each
// write of a new value into the module's (long-lived) variables costs a write barrier.
let key0 = '';
let val0 = NaN;
let key1 = '';
let val1 = NaN;
let next1 = false;
let mintedKey = '';
let mintedVal = NaN;
let nowKey = '';
let nowVal = NaN;

/** Parses an ISO 8601 instant with offset to epoch ms; NaN when malformed or not a real calendar date. */
export function parseInstant(iso: string): number {
  // the minted slot first: evolve reads a lot's expiry right after the purchase's occurredAt
  if (iso === mintedKey) return mintedVal;
  if (iso === key0) return val0;
  if (iso === key1) return val1;
  const v = parseInstantUncached(iso);
  if (next1) {
    key1 = iso;
    val1 = v;
  } else {
    key0 = iso;
    val0 = v;
  }
  next1 = !next1;
  return v;
}

/** parseInstant for a command's `now` (or the `now` of a batch), kept in its own slot. */
export function parseNow(iso: string): number {
  if (iso === nowKey) return nowVal;
  nowVal = parseInstant(iso);
  nowKey = iso;
  return nowVal;
}

/** Value of the two ASCII digits at i, or -1. */
function digits2(s: string, i: number): number {
  const a = s.charCodeAt(i) - 48;
  const b = s.charCodeAt(i + 1) - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
}

/**
 * The grammar of ISO_WITH_OFFSET, read char by char (no regex, no allocation;
 * codec.unit.spec.ts checks it against the regex):
 * YYYY-MM-DDTHH:MM[:SS[.f{1,9}]](Z|±HH:MM).
 */
function parseInstantUncached(iso: string): number {
  const n = iso.length;
  if (n < 17) return NaN;
  const y1 = digits2(iso, 0);
  const y2 = digits2(iso, 2);
  if (y1 < 0 || y2 < 0) return NaN;
  const year = y1 * 100 + y2;
  if (iso.charCodeAt(4) !== 45 /* - */ || iso.charCodeAt(7) !== 45 || iso.charCodeAt(10) !== 84 /* T */ || iso.charCodeAt(13) !== 58 /* : */) return NaN;
  const month = digits2(iso, 5);
  const day = digits2(iso, 8);
  const hour = digits2(iso, 11);
  const minute = digits2(iso, 14);
  if (month < 0 || day < 0 || hour < 0 || minute < 0) return NaN;
  let i = 16;
  let second = 0;
  let ms = 0;
  if (iso.charCodeAt(i) === 58 /* : */) {
    second = digits2(iso, i + 1);
    if (second < 0) return NaN;
    i += 3;
    if (iso.charCodeAt(i) === 46 /* . */) {
      i++;
      const from = i;
      while (i < n && i - from < 10) {
        const c = iso.charCodeAt(i) - 48;
        if (c < 0 || c > 9) break;
        if (i - from < 3) ms = ms * 10 + c;
        i++;
      }
      const len = i - from;
      if (len < 1 || len > 9) return NaN;
      if (len === 1) ms *= 100;
      else if (len === 2) ms *= 10;
    }
  }
  let offsetMin = 0;
  const z = iso.charCodeAt(i);
  if (z === 90 /* Z */) {
    if (i + 1 !== n) return NaN;
  } else if (z === 43 /* + */ || z === 45 /* - */) {
    if (i + 6 !== n || iso.charCodeAt(i + 3) !== 58) return NaN;
    const oh = digits2(iso, i + 1);
    const om = digits2(iso, i + 4);
    if (oh < 0 || om < 0) return NaN;
    if (oh > 23 || om > 59) return NaN;
    offsetMin = (z === 45 ? -1 : 1) * (oh * 60 + om);
  } else return NaN;
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month) || hour > 23 || minute > 59 || second > 59) return NaN;
  // Date.UTC reads years 0..99 as 1900..1999: keep that reading for those.
  const base = year < 100 ? Date.UTC(year, month - 1, day, hour, minute, second, ms) : daysFromCivil(year, month, day) * 86_400_000 + ((hour * 60 + minute) * 60 + second) * 1000 + ms;
  return base - offsetMin * 60_000;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
export function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
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
let isoDay = NaN;
let isoY = 0;
let isoM = 0;
let isoD = 0;
/** The ISO form `YYYY-MM-DDTHH:MM:SS.000Z` of epoch seconds (as Date#toISOString writes it). */
export function secondsToIso(s: number): string {
  if (s === lastIsoS) return lastIso;
  const days = Math.floor(s / DAY_S);
  if (days !== isoDay || !Number.isInteger(s)) {
    const { y, m, d } = civilFromDays(days);
    if (y < 0 || y > 9999 || !Number.isInteger(s)) {
      lastIso = new Date(s * 1000).toISOString();
      lastIsoS = s;
      return lastIso;
    }
    // The calendar date, kept for the day's next instants (a batch's instants share a day).
    isoY = y;
    isoM = m;
    isoD = d;
    isoDay = days;
  }
  lastIso = isoString(isoY, isoM, isoD, s - days * DAY_S);
  lastIsoS = s;
  if (isoY >= 100) {
    // parseInstant reads years 0..99 as 19xx
    mintedKey = lastIso;
    mintedVal = s * 1000;
  }
  return lastIso;
}

/**
 * `YYYY-MM-DDTHH:MM:SS.000Z`, year 0..9999, made in one piece: a flat string (a
 * concatenation would be a rope, flattened again by every comparison with it, e.g. in
 * parseInstant's cache).
 */
function isoString(y: number, mo: number, d: number, sod: number): string {
  const hh = Math.floor(sod / 3600);
  const r = sod - hh * 3600;
  const mi = Math.floor(r / 60);
  const ss = r - mi * 60;
  return String.fromCharCode(
    48 + Math.floor(y / 1000),
    48 + (Math.floor(y / 100) % 10),
    48 + (Math.floor(y / 10) % 10),
    48 + (y % 10),
    45,
    48 + Math.floor(mo / 10),
    48 + (mo % 10),
    45,
    48 + Math.floor(d / 10),
    48 + (d % 10),
    84,
    48 + Math.floor(hh / 10),
    48 + (hh % 10),
    58,
    48 + Math.floor(mi / 10),
    48 + (mi % 10),
    58,
    48 + Math.floor(ss / 10),
    48 + (ss % 10),
    46,
    48,
    48,
    48,
    90,
  );
}

let expiryS = NaN;
let expiryMonths = NaN;
let expiryVal = '';
let expiryDay = NaN;
let expiryDayMonths = NaN;
let expiryDayStart = 0;
/**
 * secondsToIso(addMonthsSeconds(s, months)), remembered: the expiry of the lots a command
 * opens (the target day is computed once per day of `s`).
 */
export function expiryIso(s: number, months: number): string {
  if (s === expiryS && months === expiryMonths) return expiryVal;
  const days = Math.floor(s / DAY_S);
  if (days !== expiryDay || months !== expiryDayMonths || !Number.isInteger(s)) {
    expiryDayStart = addMonthsSeconds(days * DAY_S, months);
    expiryDay = days;
    expiryDayMonths = months;
  }
  expiryVal = secondsToIso(expiryDayStart + (s - days * DAY_S));
  expiryS = s;
  expiryMonths = months;
  return expiryVal;
}

/** Proleptic Gregorian date of a day number since 1970-01-01 (H. Hinnant's civil_from_days). */
export function civilFromDays(days: number): { y: number; m: number; d: number } {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  return { y: yoe + era * 400 + (m <= 2 ? 1 : 0), m, d };
}

/** Adds calendar months in UTC, clamping the day (2024-02-29 + 12 months = 2025-02-28). */
export function addMonthsSeconds(s: number, months: number): number {
  const days = Math.floor(s / DAY_S);
  const secOfDay = s - days * DAY_S;
  const { y, m, d } = civilFromDays(days);
  const total = y * 12 + (m - 1) + months;
  const ty = Math.floor(total / 12);
  const tm = total - ty * 12 + 1;
  const td = Math.min(d, daysInMonth(ty, tm));
  return (ty >= 100 ? daysFromCivil(ty, tm, td) * DAY_S : Date.UTC(ty, tm - 1, td) / 1000) + secOfDay;
}

/** UTC calendar year and month (1-12) of an instant, in the offset it was given in. */
export function localYearMonth(iso: string): { year: number; month: number } {
  // The birthday month is the member's local month: use the date part as written.
  if (!Number.isNaN(parseInstant(iso))) return { year: +iso.slice(0, 4), month: +iso.slice(5, 7) };
  const m = ISO_WITH_OFFSET.exec(iso);
  if (m !== null) return { year: +m[1], month: +m[2] };
  const d = new Date(iso);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1 };
}
