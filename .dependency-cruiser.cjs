// The module boundaries of the house, as rules that fail `npm test` (helpers/boundaries.test.ts) when a
// source file crosses one. Tests beside the code may cross them: a test of the model checks it against the
// real istiod, a test of a command drives the CLI. Why each boundary: README, "Design notes".
/** Source files only: tests, test data and test support may reach across. */
const SOURCE = { pathNot: ['\\.test\\.ts$', '/testdata/', '/testing/', '(^|/)test-support/'] };

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'model-is-pure',
      comment:
        'The model (helpers/oracle) says what Istio should do from the resources alone: it imports no lane, no tool, no Kubernetes code and no CLI, so it runs anywhere, instantly.',
      severity: 'error',
      from: { path: '^helpers/oracle/', ...SOURCE },
      to: { path: ['^helpers/(lanes|tools|k8s|cluster|stack)/', '^scripts/', '^helpers/cli/', '@kubernetes/client-node', 'execa'] },
    },
    {
      name: 'control-plane-lane-without-model',
      comment: "The control-plane lane observes the real istiod; it never asks the model, or its answers could echo the model's.",
      severity: 'error',
      from: { path: '^helpers/lanes/control-plane/', ...SOURCE },
      to: { path: '^helpers/oracle/' },
    },
    {
      name: 'lanes-apart',
      comment: 'A lane imports no other lane: what two lanes share lives in helpers/k8s (the Kubernetes half) or beside them.',
      severity: 'error',
      from: { path: '^helpers/lanes/([^/]+)/', ...SOURCE },
      to: { path: '^helpers/lanes/[^/]+/', pathNot: '^helpers/lanes/$1/' },
    },
    {
      name: 'k8s-half-imports-no-lane',
      comment: 'The shared Kubernetes half is used by the lanes, never the other way round.',
      severity: 'error',
      from: { path: '^helpers/k8s/', ...SOURCE },
      to: { path: '^helpers/lanes/' },
    },
    {
      name: 'domain-without-cli',
      comment: 'Domain code (helpers/) never imports the CLI (scripts/): commands are thin, and the library is usable without them.',
      severity: 'error',
      from: { path: '^helpers/', ...SOURCE },
      to: { path: ['^scripts/', '^helpers/cli/'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)node_modules/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.mjs', '.json'] },
  },
};
