import { parseUpstreamOrigin, upstreamOriginHeader } from './commands-wire';

describe('the upstream origin header of an ingest command', () => {
  it('given a topic, partition and offset, when written and read, then they come back, whatever dots the topic has', () => {
    expect(parseUpstreamOrigin(upstreamOriginHeader('acme.loyalty.purchases', 11, '9007199254740993'))).toEqual({
      source: 'ingest',
      topic: 'acme.loyalty.purchases',
      partition: 11,
      offset: '9007199254740993',
    });
  });

  it.each(['', 'purchases', 'purchases/3', '/3/4', 'purchases/x/4', 'purchases/1.5/4', 'purchases//4', 'purchases/3/'])('given %p, then it is not an origin', (value) => {
    expect(parseUpstreamOrigin(value)).toBeUndefined();
  });
});
