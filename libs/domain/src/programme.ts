// The programme: the business rules as data. `loadProgramme` validates a parsed
// JSON document field by field and refuses it with a message naming the field.
// Multipliers are integers in basis points (10000 = ×1); no float enters a
// points computation.

import defaultProgrammeJson from '../../../programmes/default.json';
import { Channel } from './events';
import { parseInstant } from './time';

export const BP = 10_000;
export const CHANNELS: readonly Channel[] = ['store', 'online', 'app', 'partner'];

export interface Tier {
  readonly name: string;
  /** Qualifying points (rolling window) from which the tier is reached. */
  readonly threshold: number;
  /** Multiplier on base points, basis points: 12500 = ×1.25. */
  readonly multiplierBp: number;
}

export interface Reward {
  readonly id: string;
  readonly name: string;
  readonly points: number;
}

/**
 * A promotion applies to purchases whose `occurredAt` lies in [from, to), on one of
 * `channels` (all when absent). With `categories`, only the items of those
 * categories count (sum of quantity × unitPrice, at most the purchase amount) and a
 * purchase without a matching item gets nothing.
 * - `multiplierBp`: extra points = floor(eligibleBase × (multiplierBp − 10000) / 10000),
 *   so 20000 is a "double points" promotion on the base points.
 * - `bonusPoints`: a flat bonus per qualifying purchase.
 * Each promotion that applies is one PointsEarned with cause `promotion`; refunds
 * reverse it with the purchase's own points.
 */
export interface Promotion {
  readonly id: string;
  readonly from: string;
  readonly to: string;
  readonly channels?: readonly Channel[];
  readonly categories?: readonly string[];
  readonly multiplierBp?: number;
  readonly bonusPoints?: number;
  readonly minAmount?: number;
  /** Parsed bounds, epoch ms (filled by loadProgramme). */
  readonly fromMs: number;
  readonly toMs: number;
}

export interface Programme {
  readonly id: string;
  readonly version: string;
  readonly currency: string;
  /** Base earn: `points` per `perMinorUnits` of amount, floored per purchase. */
  readonly earn: { readonly points: number; readonly perMinorUnits: number };
  /** Ascending thresholds; the first is 0 and is the tier of a new member. */
  readonly tiers: readonly Tier[];
  readonly qualifyingWindowDays: number;
  /**
   * Downgrades, at review time only: at most `downgradeLevels` levels per review, and none
   * within `downgradeGraceMonths` calendar months of the TierChanged that gave the member
   * their current tier (0: no grace period).
   */
  readonly review: { readonly downgradeLevels: number; readonly downgradeGraceMonths: number };
  readonly welcomeBonus: number;
  readonly birthdayBonus: number;
  readonly referral: { readonly referrer: number; readonly referee: number };
  readonly expiryMonths: number;
  /** De-duplication window, also the age beyond which a purchase is too old. */
  readonly dedupWindowDays: number;
  /** How far in the future (vs the recording time) an occurredAt may lie. */
  readonly futureToleranceHours: number;
  readonly autoEnroll: boolean;
  readonly rewards: readonly Reward[];
  readonly promotions: readonly Promotion[];
}

export class ProgrammeError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'ProgrammeError';
  }
}

type Json = unknown;

function fail(field: string, rule: string): never {
  throw new ProgrammeError(field, `${field} ${rule}`);
}
function obj(v: Json, field: string): Record<string, Json> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(field, 'must be an object');
  return v as Record<string, Json>;
}
function str(v: Json, field: string, max = 128): string {
  if (typeof v !== 'string' || v.length < 1 || v.length > max) fail(field, `must be a string of 1..${max} characters`);
  return v;
}
function int(v: Json, field: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
    fail(field, min === 0 ? 'must be a non-negative integer' : `must be an integer in ${min}..${max}`);
  }
  return v;
}
function bool(v: Json, field: string): boolean {
  if (typeof v !== 'boolean') fail(field, 'must be a boolean');
  return v;
}
function arr(v: Json, field: string): readonly Json[] {
  if (!Array.isArray(v)) fail(field, 'must be an array');
  return v;
}
function opt<T>(o: Record<string, Json>, key: string, f: (v: Json) => T, dflt: T): T {
  return o[key] === undefined ? dflt : f(o[key]);
}

/** Validates a parsed programme document. Throws ProgrammeError naming the field. */
export function loadProgramme(json: unknown): Programme {
  const p = obj(json, 'programme');
  const id = str(p.id, 'programme.id');
  const version = str(p.version, 'programme.version');
  const currency = str(p.currency, 'programme.currency');
  if (!/^[A-Z]{3}$/.test(currency)) fail('programme.currency', 'must be an ISO 4217 code (3 capital letters)');
  const e = obj(p.earn, 'programme.earn');
  const earn = { points: int(e.points, 'programme.earn.points'), perMinorUnits: int(e.perMinorUnits, 'programme.earn.perMinorUnits', 1) };

  const tiersRaw = arr(p.tiers, 'programme.tiers');
  if (tiersRaw.length < 1) fail('programme.tiers', 'must hold at least one tier');
  const tiers: Tier[] = tiersRaw.map((t, i) => {
    const f = `programme.tiers[${i}]`;
    const o = obj(t, f);
    return {
      name: str(o.name, `${f}.name`, 64),
      threshold: int(o.threshold, `${f}.threshold`),
      multiplierBp: int(o.multiplierBp, `${f}.multiplierBp`, 1, 1_000_000),
    };
  });
  if (tiers[0].threshold !== 0) fail('programme.tiers[0].threshold', 'must be 0 (the tier of a new member)');
  for (let i = 1; i < tiers.length; i++) {
    if (tiers[i].threshold <= tiers[i - 1].threshold) fail(`programme.tiers[${i}].threshold`, 'must be greater than the previous tier\'s threshold');
    if (tiers.slice(0, i).some((t) => t.name === tiers[i].name)) fail(`programme.tiers[${i}].name`, 'must be unique');
  }

  const review = obj(p.review ?? { downgradeLevels: 1 }, 'programme.review');
  const ref = obj(p.referral, 'programme.referral');

  const rewards: Reward[] = arr(p.rewards, 'programme.rewards').map((r, i) => {
    const f = `programme.rewards[${i}]`;
    const o = obj(r, f);
    return { id: str(o.id, `${f}.id`), name: str(o.name ?? o.id, `${f}.name`, 256), points: int(o.points, `${f}.points`, 1) };
  });
  rewards.forEach((r, i) => {
    if (rewards.findIndex((x) => x.id === r.id) !== i) fail(`programme.rewards[${i}].id`, 'must be unique');
  });

  const promotions: Promotion[] = arr(p.promotions ?? [], 'programme.promotions').map((r, i) => {
    const f = `programme.promotions[${i}]`;
    const o = obj(r, f);
    const from = str(o.from, `${f}.from`, 64);
    const to = str(o.to, `${f}.to`, 64);
    const fromMs = parseInstant(from);
    const toMs = parseInstant(to);
    if (Number.isNaN(fromMs)) fail(`${f}.from`, 'must be an ISO 8601 instant with offset');
    if (Number.isNaN(toMs)) fail(`${f}.to`, 'must be an ISO 8601 instant with offset');
    if (toMs <= fromMs) fail(`${f}.to`, 'must be after from');
    const channels =
      o.channels === undefined
        ? undefined
        : arr(o.channels, `${f}.channels`).map((c, j) => {
            if (!CHANNELS.includes(c as Channel)) fail(`${f}.channels[${j}]`, `must be one of ${CHANNELS.join(', ')}`);
            return c as Channel;
          });
    const categories = o.categories === undefined ? undefined : arr(o.categories, `${f}.categories`).map((c, j) => str(c, `${f}.categories[${j}]`));
    const multiplierBp = o.multiplierBp === undefined ? undefined : int(o.multiplierBp, `${f}.multiplierBp`, BP, 1_000_000);
    const bonusPoints = o.bonusPoints === undefined ? undefined : int(o.bonusPoints, `${f}.bonusPoints`, 1);
    if (multiplierBp === undefined && bonusPoints === undefined) fail(f, 'must have multiplierBp or bonusPoints');
    const minAmount = o.minAmount === undefined ? undefined : int(o.minAmount, `${f}.minAmount`);
    return { id: str(o.id, `${f}.id`), from, to, fromMs, toMs, channels, categories, multiplierBp, bonusPoints, minAmount };
  });

  return {
    id,
    version,
    currency,
    earn,
    tiers,
    qualifyingWindowDays: int(p.qualifyingWindowDays, 'programme.qualifyingWindowDays', 1, 3660),
    review: {
      downgradeLevels: opt(review, 'downgradeLevels', (v) => int(v, 'programme.review.downgradeLevels', 1, 100), 1),
      downgradeGraceMonths: opt(review, 'downgradeGraceMonths', (v) => int(v, 'programme.review.downgradeGraceMonths', 0, 1200), 0),
    },
    welcomeBonus: int(p.welcomeBonus, 'programme.welcomeBonus'),
    birthdayBonus: int(p.birthdayBonus, 'programme.birthdayBonus'),
    referral: { referrer: int(ref.referrer, 'programme.referral.referrer'), referee: int(ref.referee, 'programme.referral.referee') },
    expiryMonths: int(p.expiryMonths, 'programme.expiryMonths', 1, 1200),
    dedupWindowDays: int(p.dedupWindowDays, 'programme.dedupWindowDays', 1, 3660),
    futureToleranceHours: opt(p, 'futureToleranceHours', (v) => int(v, 'programme.futureToleranceHours'), 24),
    autoEnroll: opt(p, 'autoEnroll', (v) => bool(v, 'programme.autoEnroll'), true),
    rewards,
    promotions,
  };
}

/** The default programme of CONTRACT.md (programmes/default.json). */
export const DEFAULT_PROGRAMME: Programme = loadProgramme(defaultProgrammeJson);

export function findReward(programme: Programme, rewardId: string): Reward | undefined {
  return programme.rewards.find((r) => r.id === rewardId);
}

/** Index of the highest tier whose threshold is reached. */
export function tierIndexFor(programme: Programme, qualifying: number): number {
  const tiers = programme.tiers;
  let i = tiers.length - 1;
  while (i > 0 && qualifying < tiers[i].threshold) i--;
  return i;
}

export function tierIndexOf(programme: Programme, name: string): number {
  const tiers = programme.tiers;
  for (let i = 0; i < tiers.length; i++) if (tiers[i].name === name) return i;
  return 0;
}
