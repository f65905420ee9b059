import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../load.js';
import { BASE } from './testing.js';

describe('lint.cluster_without_etcd', () => {
  it('refuses cluster: without coordination.etcd, and says what to add', () => {
    const loaded = parseConfigText(`${BASE}cluster: { lease_ttl: 5s }\n`, 'test.yaml', { env: {} });
    expect(loaded.findings).toContainEqual(expect.objectContaining({
      severity: 'error', rule: 'lint.cluster_without_etcd', path: ['cluster'], hint: expect.stringContaining('coordination.etcd'),
    }));
  });

  it('accepts it with etcd, and refuses a lease shorter than 2s', () => {
    const etcd = 'coordination:\n  etcd: { endpoints: [http://127.0.0.1:2379] }\n';
    expect(parseConfigText(`${BASE}${etcd}cluster: { lease_ttl: 5s }\n`, 'test.yaml', { env: {} }).findings.filter((f) => f.severity === 'error')).toEqual([]);
    const short = parseConfigText(`${BASE}${etcd}cluster: { lease_ttl: 1s }\n`, 'test.yaml', { env: {} });
    expect(short.findings).toContainEqual(expect.objectContaining({ severity: 'error', path: ['cluster', 'lease_ttl'] }));
  });
});
