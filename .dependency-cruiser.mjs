/**
 * The house rules: which room of src/ may import which (docs/architecture.md).
 * A room is a top-level folder of src/; its face is src/<room>/index.ts.
 * Run: npm run lint:deps. Only shipped code is checked: test files (*.test.ts)
 * are left out and fixtures (any testing/ folder) are not followed, so a test
 * may import whatever it tests. Shipped code may not import a fixture.
 */
const FIXTURE = '(^|/)testing/';

export default {
  forbidden: [
    {
      name: 'no-room-cycles',
      severity: 'error',
      comment:
        'Two rooms import each other (through any number of others). Arrows point one way: ' +
        'cli -> daemon -> subsystems -> core. Move the shared contract down into src/core ' +
        '(Subsystem, listen parsing, sleep, pg helpers) or into the lower room\'s index.ts, ' +
        'and import that face from both sides.',
      scope: 'folder',
      from: { path: '^src/([^/]+)' },
      to: { path: '^src/', pathNot: '^src/$1(/|$)', circular: true },
    },
    {
      name: 'no-reaching-into-rooms',
      severity: 'error',
      comment:
        'Another room\'s internals. Import src/<room>/index.ts (the room\'s face) instead; if the ' +
        'name you need is not exported there, add it to that index.ts on purpose. ' +
        'Every file of src/core is a face (one small contract each, so taking one loads no other).',
      from: { path: '^src/([^/]+)/' },
      to: { path: '^src/[^/]+/.', pathNot: ['^src/$1/', '^src/[^/]+/index\\.ts$', '^src/core/', FIXTURE] },
    },
    {
      name: 'no-daemon-from-subsystems',
      severity: 'error',
      comment:
        'Only src/cli may import src/daemon: the daemon composes the subsystems, nothing builds on it. ' +
        'For Subsystem, Lifecycle and LifecycleState import src/core/lifecycle.ts; code that starts ' +
        'a whole daemon (a demo) belongs in src/cli or takes the Daemon from it.',
      from: { path: '^src/', pathNot: '^src/(cli|daemon)/' },
      to: { path: '^src/daemon/' },
    },
    {
      name: 'no-config-in-plan',
      severity: 'error',
      comment:
        'plan reads bulwark.yaml only as the Topology it owns (src/plan/model.ts, exported by ' +
        'src/plan/index.ts); src/config/topology.ts builds it from a parsed configuration. ' +
        'Take what you need as a Topology field, never from src/config (config -> plan, not back).',
      from: { path: '^src/plan/' },
      to: { path: '^src/config/' },
    },
    {
      name: 'no-fixtures-in-shipped-code',
      severity: 'error',
      comment:
        'Shipped code imports a test fixture (testing/ is left out of the build). ' +
        'Move what production needs out of testing/, into the room or into src/core.',
      from: { path: '^src/' },
      to: { path: FIXTURE },
    },
  ],
  options: {
    // A fixture shows up only when shipped code imports it; its own imports are not
    // followed: test-only edges must not make (or hide) a cycle between rooms.
    doNotFollow: { path: ['node_modules', FIXTURE] },
    exclude: { path: '\\.test\\.ts$' },
    // `import type` counts: a type-only import still ties two rooms together.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.mjs', '.cjs', '.d.ts'],
    },
  },
};
