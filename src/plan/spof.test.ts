import { describe, expect, it } from 'vitest';
import { findSpofs } from './spof.js';
import { component, member, onHost } from './testing/fixtures.js';

const zones = {
  'us-east-1a': { region: 'us-east-1', availability: 0.999 },
  'us-east-1b': { region: 'us-east-1', availability: 0.999 },
  'us-west-2a': { region: 'us-west-2', availability: 0.999 },
};

describe('findSpofs', () => {
  it('a single member is a member SPOF', () => {
    const found = findSpofs('db', component([member('pg1', 0.999, 'us-east-1a')]), { zones });
    expect(found).toEqual([expect.objectContaining({ component: 'db', scope: 'member', domain: 'pg1' })]);
  });

  it('all members in one zone are a zone SPOF (and so a region SPOF)', () => {
    const found = findSpofs('api', component([member('e1', 0.999, 'us-east-1a'), member('e2', 0.999, 'us-east-1a')]), { zones });
    expect(found.map((f) => [f.scope, f.domain])).toEqual([['zone', 'us-east-1a'], ['region', 'us-east-1']]);
    expect(found[0]?.message).toContain('a zone outage takes api down');
  });

  it('two zones of one region are a region SPOF only', () => {
    const found = findSpofs('api', component([member('e1', 0.999, 'us-east-1a'), member('e2', 0.999, 'us-east-1b')]), { zones });
    expect(found.map((f) => f.scope)).toEqual(['region']);
  });

  it('a backup in another region removes every SPOF', () => {
    const members = [member('e1', 0.999, 'us-east-1a'), member('e2', 0.999, 'us-east-1b'), member('e3', 0.999, 'us-west-2a', true)];
    expect(findSpofs('api', component(members), { zones })).toEqual([]);
  });

  it('a primary with a backup is not a member SPOF', () => {
    expect(findSpofs('api', component([member('e1', 0.999), member('e2', 0.999, undefined, true)]), { zones })).toEqual([]);
  });

  it('names the host when every member is on one host', () => {
    const members = ['127.0.0.1', 'localhost', '127.0.0.1'].map((h, i) => onHost(member(`pg${i + 1}`, 0.995), h));
    const found = findSpofs('main', component(members, { kind: 'database' }), { zones });
    expect(found).toEqual([{
      component: 'main', scope: 'host', domain: '127.0.0.1',
      message: "all 3 members of database main are on host 127.0.0.1: one host's failure takes main down; put members on other hosts",
    }]);
    const endpoints = [onHost(member('e1', 0.999, 'us-east-1a'), 'h'), onHost(member('e2', 0.999, 'us-east-1a'), 'h')];
    expect(findSpofs('api', component(endpoints), { zones }).map((f) => [f.scope, f.domain])).toEqual([['host', 'h'], ['zone', 'us-east-1a'], ['region', 'us-east-1']]);
    expect(findSpofs('api', component(endpoints), { zones })[0]?.message).toContain('all 2 endpoints of service api are on host h');
  });

  it('no host SPOF across hosts, across declared zones, or for one member', () => {
    const hosts = ['10.0.0.1', '10.0.0.2'].map((h, i) => onHost(member(`pg${i + 1}`, 0.995), h));
    expect(findSpofs('db', component(hosts), { zones })).toEqual([]);
    const zoned = [onHost(member('e1', 0.999, 'us-east-1a'), 'h'), onHost(member('e2', 0.999, 'us-west-2a'), 'h')];
    expect(findSpofs('api', component(zoned), { zones })).toEqual([]);
    expect(findSpofs('db', component([onHost(member('pg1', 0.995), 'h')]), { zones }).map((f) => f.scope)).toEqual(['member']);
  });

  it('says nothing about zones when placement is unknown', () => {
    expect(findSpofs('api', component([member('e1', 0.999, 'us-east-1a'), member('e2', 0.999)]), { zones })).toEqual([]);
  });
});
