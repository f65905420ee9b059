import { describe, expect, it } from 'vitest';
import { decide, type VantageView } from './quorum.js';

const view = (vantage: string, status: VantageView['status'], reporting = true): VantageView => ({ vantage, status, reporting });

describe('quorum of vantage points', () => {
  it('one vantage point seeing the target down does not mark it down with quorum 2 of 3', () => {
    expect(decide([view('a', 'down'), view('b', 'up'), view('c', 'up')], 2, 'up').status).toBe('up');
  });

  it('two of three seeing it down mark it down', () => {
    expect(decide([view('a', 'down'), view('b', 'down'), view('c', 'up')], 2, 'up')).toMatchObject({ status: 'down', down: 2 });
  });

  it('a silent vantage point is never counted as down', () => {
    const decision = decide([view('a', 'down', false), view('b', 'up'), view('c', 'up')], 2, 'up');
    expect(decision).toMatchObject({ status: 'up', reporting: 2 });
  });

  it('below quorum of reporting vantage points, the last status holds', () => {
    expect(decide([view('a', 'down'), view('b', 'down', false), view('c', 'down', false)], 2, 'up').status).toBe('up');
    expect(decide([view('a', 'up'), view('b', 'up', false)], 2, 'down').status).toBe('down');
  });

  it('quorum 1 is a single vantage point deciding', () => {
    expect(decide([view('local', 'down')], 1, 'up').status).toBe('down');
    expect(decide([view('local', 'up')], 1, 'down').status).toBe('up');
  });
});
