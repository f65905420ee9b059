import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadConfigFile } from '../load.js';
import { lintConfig, LINT_RULES } from './index.js';
import { lintYaml } from './testing.js';

const example = (name: string): string => fileURLToPath(new URL(`../../../examples/${name}`, import.meta.url));

describe('lintConfig', () => {
  it('runs every rule family', () => {
    expect(LINT_RULES.length).toBeGreaterThanOrEqual(8);
  });

  it('finds only "nothing to protect" in an empty configuration', async () => {
    const onlyWarning = [expect.objectContaining({ severity: 'warning', rule: 'lint.nothing_to_protect' })];
    expect(lintYaml('name: empty\n')).toEqual(onlyWarning);
    const { configSchema } = await import('../schema.js');
    expect(lintConfig(configSchema.parse({}))).toEqual(onlyWarning);
  });

  it.each(['full.yaml', 'single-zone.yaml'])('examples/%s has no lint errors', async (name) => {
    const loaded = await loadConfigFile(example(name), { env: {}, unresolvedSecrets: 'warning' });
    expect(loaded.config).toBeDefined();
    expect(loaded.findings.filter((f) => f.severity === 'error')).toEqual([]);
  });

  it('warns about the honest costs of the single-zone example', async () => {
    const loaded = await loadConfigFile(example('single-zone.yaml'), { env: {}, unresolvedSecrets: 'warning' });
    const rules = new Set(loaded.findings.filter((f) => f.rule.startsWith('lint.')).map((f) => f.rule));
    expect([...rules].sort()).toEqual(['lint.no_offsite_copy', 'lint.single_point_of_failure']);
  });
});
