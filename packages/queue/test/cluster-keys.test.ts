import { fairShareKey, parseClusterUrl, queuePrefix, withoutHashTag } from '../src';

describe('Redis Cluster keys and URLs', () => {
  it('gives each queue a hash tag of its own under the deployment prefix', () => {
    expect(queuePrefix('gq', 'job-image')).toBe('gq:{job-image}');
    expect(queuePrefix('gq', 'job-video')).not.toBe(queuePrefix('gq', 'job-image'));
    // an older braced prefix would pin every queue to one slot: its braces are dropped
    expect(queuePrefix('{gq}', 'job-mj')).toBe('gq:{job-mj}');
    expect(withoutHashTag('{a}b{c}')).toBe('abc');
  });

  it('keeps a lane\'s fair-share hash in its queue\'s slot (the script also reads the queue\'s prioritized set)', () => {
    expect(fairShareKey(queuePrefix('gq', 'job-image'))).toBe('gq:{job-image}:fair-share');
  });

  it('reads plain URLs as no cluster', () => {
    expect(parseClusterUrl('redis://127.0.0.1:6379')).toBeNull();
    expect(parseClusterUrl('rediss://cache.example:6380')).toBeNull();
  });

  it('reads seed nodes, credentials and TLS of a cluster URL', () => {
    expect(parseClusterUrl('redis+cluster://10.0.0.1:7000,10.0.0.2:7001,10.0.0.3')).toEqual({
      nodes: [
        { host: '10.0.0.1', port: 7000 },
        { host: '10.0.0.2', port: 7001 },
        { host: '10.0.0.3', port: 6379 },
      ],
      redisOptions: {},
    });
    expect(parseClusterUrl('rediss+cluster://ops:p%40ss:w@a:1,b:2/')).toEqual({
      nodes: [
        { host: 'a', port: 1 },
        { host: 'b', port: 2 },
      ],
      redisOptions: { username: 'ops', password: 'p@ss:w', tls: {} },
    });
    expect(parseClusterUrl('redis+cluster://:secret@a:1')?.redisOptions).toEqual({ password: 'secret' });
    expect(() => parseClusterUrl('redis+cluster://')).toThrow('without nodes');
  });
});
