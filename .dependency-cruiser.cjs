// The module boundaries of the house, as rules that fail `npm test` (helpers/boundaries.test.ts) when a
// source file crosses one. Tests beside the code may cross them: a test of the model checks it against the
// real istiod, a test of a command drives the CLI. Why each boundary: README, "Design notes".
/** Source files only: tests, test data and test support may reach across. */
const SOURCE = { pathNot: ['\\.test\\.ts$', '/testdata/', '/testing/', '(^|/)test-support/'] };

/**
 * A boundary: source files whose path matches `from` import nothing `to` names.
 * @param {string} name
 * @param {string} comment
 * @param {string} from
 * @param {import('dependency-cruiser').IRegularForbiddenRuleType['to']} to
 * @returns {import('dependency-cruiser').IRegularForbiddenRuleType}
 */
function boundary(name, comment, from, to) {
  return { name, comment, severity: 'error', from: { path: from, ...SOURCE }, to };
}

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    boundary(
      'model-is-pure',
      'The model (helpers/oracle) says what Istio should do from the resources alone: it imports no lane, no tool, no Kubernetes code and no CLI, so it runs anywhere, instantly.',
      '^helpers/oracle/',
      { path: ['^helpers/(lanes|tools|k8s|cluster|stack)/', '^scripts/', '^helpers/cli/', '@kubernetes/client-node', 'execa'] },
    ),
    boundary(
      'control-plane-lane-without-model',
      "The control-plane lane observes the real istiod; it never asks the model, or its answers could echo the model's.",
      '^helpers/lanes/control-plane/',
      { path: '^helpers/oracle/' },
    ),
    boundary(
      'lanes-apart',
      'A lane imports no other lane: what two lanes share lives in helpers/k8s (the Kubernetes half) or beside them.',
      '^helpers/lanes/([^/]+)/',
      { path: '^helpers/lanes/[^/]+/', pathNot: '^helpers/lanes/$1/' },
    ),
    boundary('k8s-half-imports-no-lane', 'The shared Kubernetes half is used by the lanes, never the other way round.', '^helpers/k8s/', {
      path: '^helpers/lanes/',
    }),
    boundary(
      'domain-without-cli',
      'Domain code (helpers/) never imports the CLI (scripts/): commands are thin, and the library is usable without them.',
      '^helpers/',
      { path: ['^scripts/', '^helpers/cli/'] },
    ),
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)node_modules/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.mjs', '.json'] },
  },
};
