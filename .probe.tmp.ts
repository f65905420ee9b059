import { parseConfigText, formatKeyPath } from '/work/main/src/config/index.ts';
const cases: string[] = JSON.parse(require('fs').readFileSync('/tmp/probe/cases.json','utf8'));
for (const c of cases) {
  const r = parseConfigText(c, 'test.yaml', { env: {} });
  console.log('=== ' + JSON.stringify(c) + ' unusable=' + r.unusable);
  for (const f of r.findings) console.log(`  ${f.location?.line}:${f.location?.column} ${f.severity} ${formatKeyPath(f.path)} | ${f.message} | found=${f.found} | exp=${f.expected?.slice(0,60)}`);
}
