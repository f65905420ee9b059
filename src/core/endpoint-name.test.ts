import { describe, expect, it } from 'vitest';
import { endpointName } from './names.js';

describe('endpointName', () => {
  it('uses the name, else host:port, else a positional name', () => {
    expect(endpointName({ name: 'api-a', url: 'http://10.0.0.1:8080' }, 0)).toBe('api-a');
    expect(endpointName({ url: 'http://10.0.0.1:8080' }, 0)).toBe('10.0.0.1:8080');
    expect(endpointName({ url: '10.0.0.1:5432' }, 1)).toBe('10.0.0.1:5432');
    expect(endpointName({ url: 'http://[::1]:81' }, 2)).toBe('[::1]:81');
    expect(endpointName({ url: 'not a url at all' }, 3)).toBe('endpoint-3');
  });
});
