import { describe, expect, it } from 'vitest';
import { findSpofs } from './spof.js';
import { component, member } from './testing/fixtures.js';

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

  it('says nothing about zones when placement is unknown', () => {
    expect(findSpofs('api', component([member('e1', 0.999, 'us-east-1a'), member('e2', 0.999)]), { zones })).toEqual([]);
  });
});
