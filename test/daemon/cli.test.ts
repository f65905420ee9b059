import { afterEach, describe, expect, it } from 'vitest';
import { Harness } from './helpers.js';

const h = new Harness();
afterEach(() => h.cleanup());

describe('bulwark CLI surface', () => {
  it('bulwark --help prints usage and the commands', async () => {
    const result = await h.run(['--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Usage: bulwark');
    for (const command of ['up', 'token', 'check']) expect(result.stdout).toContain(command);
  });

  it('bulwark up --help lists its options and the signals', async () => {
    const result = await h.run(['up', '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Usage: bulwark up');
    for (const option of ['--config', '--data-dir', '--listen', '--log-format', '--drain-timeout', '--no-watch', 'SIGHUP', 'SIGTERM']) {
      expect(result.stdout).toContain(option);
    }
  });

  it('bulwark token create --help', async () => {
    const result = await h.run(['token', 'create', '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Usage: bulwark token create');
    expect(result.stdout).toContain('--name');
    expect(result.stdout).toContain('--data-dir');
  });

  it('bulwark --version prints the version', async () => {
    const result = await h.run(['--version']);
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('an unknown command exits 2', async () => {
    const result = await h.run(['frobnicate']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('frobnicate');
  });

  it('up without -c exits 2; token create without --name exits 2', async () => {
    expect((await h.run(['up'])).code).toBe(2);
    const dir = await h.tempDir();
    expect((await h.run(['token', 'create', '--data-dir', dir])).code).toBe(2);
  });
});
