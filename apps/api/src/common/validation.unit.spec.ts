// The hot routes' parameters and query strings take a synchronous fast path; it must give
// what the full class-validator pipe gives, and leave everything else to that pipe.
import { HttpException, ValidationPipe, type ArgumentMetadata } from '@nestjs/common';
import { BalanceQuery, BoardMemberParams, BoardParams, LeaderboardQuery, MemberParams, PeriodQuery } from './request.dto';
import { createValidationPipe } from './validation';

const pipe = createValidationPipe();
/** The same options, without the fast path: the reference. */
const full = (value: unknown, meta: ArgumentMetadata) => ValidationPipe.prototype.transform.call(pipe, value, meta);

const cases: Array<[ArgumentMetadata, unknown]> = [
  [{ type: 'param', metatype: MemberParams, data: undefined }, { id: 'm-1001' }],
  [{ type: 'param', metatype: BoardParams, data: undefined }, { board: 'points' }],
  [{ type: 'param', metatype: BoardMemberParams, data: undefined }, { board: 'spend', id: 'm-7' }],
  [{ type: 'query', metatype: BalanceQuery, data: undefined }, {}],
  [{ type: 'query', metatype: BalanceQuery, data: undefined }, { minSequence: '42' }],
  [{ type: 'query', metatype: LeaderboardQuery, data: undefined }, { limit: '10' }],
  [{ type: 'query', metatype: LeaderboardQuery, data: undefined }, { period: '2025-06', limit: '1000' }],
  [{ type: 'query', metatype: PeriodQuery, data: undefined }, { period: 'all' }],
];

describe('the validation pipe fast path', () => {
  it.each(cases.map(([meta, value]) => [meta.metatype!.name, value, meta] as const))('given a valid %s %j, then it answers at once with what the full pipe gives', async (_name, value, meta) => {
    const fast = pipe.transform(value, meta);
    expect(fast).not.toBeInstanceOf(Promise);
    expect(fast).toBeInstanceOf(meta.metatype as new () => object);
    expect(fast).toEqual(await full(value, meta));
  });

  const invalid: Array<[ArgumentMetadata, unknown]> = [
    [{ type: 'query', metatype: LeaderboardQuery, data: undefined }, { limit: '0' }],
    [{ type: 'query', metatype: LeaderboardQuery, data: undefined }, { limit: '1.5' }],
    [{ type: 'query', metatype: LeaderboardQuery, data: undefined }, { period: '2025-13' }],
    [{ type: 'query', metatype: BalanceQuery, data: undefined }, { minSequence: '-1' }],
    [{ type: 'query', metatype: BalanceQuery, data: undefined }, { other: '1' }],
    [{ type: 'param', metatype: MemberParams, data: undefined }, { id: 'a\u0000b' }],
    [{ type: 'param', metatype: MemberParams, data: undefined }, { id: '' }],
  ];
  it.each(invalid.map(([meta, value]) => [meta.metatype!.name, value, meta] as const))('given a %s %j that is not valid, then the full pipe answers: a 400', async (_name, value, meta) => {
    const out = pipe.transform(value, meta);
    expect(out).toBeInstanceOf(Promise);
    await expect(out).rejects.toBeInstanceOf(HttpException);
    await expect(pipe.transform(value, meta)).rejects.toMatchObject({ status: 400 });
  });
});
