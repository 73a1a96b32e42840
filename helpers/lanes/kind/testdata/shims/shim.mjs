#!/usr/bin/env node
// Test stand-in for docker, kind, istioctl and openssl. Records each call (argv and KUBECONFIG) as a JSON
// line in $SHIM_LOG and answers like the real tool for what the kind lane asks. State (clusters,
// containers) lives next to the log. Knobs:
//   SHIM_FAIL=tool:sub[,…]   that call exits 1 with a tool-like error (e.g. istioctl:install)
//   SHIM_FAIL_ONCE=tool:sub  only the first such call fails (a flaky `kind create`)
//   SHIM_HANG=tool:sub[,…]   that call never ends (writes $SHIM_LOG.hanging first)
//   SHIM_DOCKER_DOWN=1       docker info fails as with no engine
//   SHIM_KIND_RACE=1         another run creates the same cluster just before our `kind create` (which fails)
//   SHIM_KIND_HANG_ONCE=1    the first `kind create` makes the cluster's node, then hangs (killed by the lane's bound)
//   SHIM_KIND_VERSION / SHIM_ISTIOCTL_VERSION   report another version
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const [tool, ...args] = process.argv.slice(2);
const log = process.env.SHIM_LOG;
const pinned = JSON.parse(readFileSync(fileURLToPath(new URL('../../../../../fixtures/versions.json', import.meta.url)), 'utf8'));
if (log) appendFileSync(log, `${JSON.stringify({ tool, argv: args, kubeconfig: process.env.KUBECONFIG ?? null })}\n`);

const sub = args.filter((a) => !a.startsWith('-'))[0] ?? '';
const key = `${tool}:${sub}`;
const listed = (name) =>
  (process.env[name] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

if (listed('SHIM_HANG').includes(key)) {
  if (log) writeFileSync(`${log}.hanging`, key);
  setInterval(() => {}, 1 << 30);
} else {
  main();
}

function state(name, fallback) {
  const f = `${log ?? '/tmp/shim'}.${name}.json`;
  return { get: () => (existsSync(f) ? JSON.parse(readFileSync(f, 'utf8')) : fallback), set: (v) => writeFileSync(f, JSON.stringify(v)) };
}
function flag(name) {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}
function out(s) {
  process.stdout.write(s.endsWith('\n') ? s : `${s}\n`);
}
function fail(msg, code = 1) {
  process.stderr.write(`${msg}\n`);
  process.exit(code);
}

function main() {
  const once = state('failed-once', []);
  const failOnce = listed('SHIM_FAIL_ONCE').includes(key) && !once.get().includes(key);
  if (failOnce) once.set([...once.get(), key]);
  if (failOnce || listed('SHIM_FAIL').includes(key)) {
    const msgs = {
      'istioctl:manifest': 'Error: generate config: unknown field "meshConfig.bogus" in IstioOperator',
      'kind:create': 'ERROR: failed to create cluster: failed to init node with kubeadm',
    };
    fail(msgs[key] ?? `${tool}: ${sub} failed (shim)`);
  }
  ({ docker, kind, istioctl, openssl })[tool]();
}

function docker() {
  const containers = state('containers', []);
  switch (sub) {
    case 'info':
      if (process.env.SHIM_DOCKER_DOWN)
        fail('Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?');
      return out('27.3.1');
    case 'network':
      if (flag('--format')) return out('172.18.0.0/16 fc00:f853:ccd:e793::/64 ');
      return out(
        JSON.stringify([
          { Name: 'kind', IPAM: { Config: [{ Subnet: '172.18.0.0/16', Gateway: '172.18.0.1' }, { Subnet: 'fc00:f853:ccd:e793::/64' }] } },
        ]),
      );
    case 'create': {
      const name = flag('--name');
      const labels = args.flatMap((a, i) => (args[i - 1] === '--label' ? [a] : []));
      const id = createHash('sha256').update(name).digest('hex').slice(0, 12);
      containers.set([...containers.get(), { id, name, labels }]);
      return out(id);
    }
    case 'start':
    case 'cp':
    case 'exec':
      return;
    case 'inspect': {
      const name = args[args.length - 1];
      const ip = name.endsWith('-db') ? '172.18.0.3' : name.endsWith('-web') ? '172.18.0.4' : '';
      if (flag('--format')) return out(ip);
      return out(JSON.stringify([{ Name: `/${name}`, NetworkSettings: { Networks: { kind: { IPAddress: ip } } } }]));
    }
    case 'ps': {
      const filter = flag('--filter')?.replace(/^label=/, '');
      return out(
        containers
          .get()
          .filter((c) => !filter || c.labels.includes(filter))
          .map((c) => c.id)
          .join('\n'),
      );
    }
    case 'rm': {
      const ids = args.filter((a) => !a.startsWith('-')).slice(1);
      containers.set(containers.get().filter((c) => !ids.includes(c.id)));
      return out(ids.join('\n'));
    }
    default:
      fail(`docker: '${sub}' is not a docker command (shim)`);
  }
}

function writeKubeconfig(file, name) {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(
    file,
    [
      'apiVersion: v1',
      'kind: Config',
      `current-context: kind-${name}`,
      'clusters:',
      `- name: kind-${name}`,
      '  cluster:',
      '    server: https://127.0.0.1:6443',
      'contexts:',
      `- name: kind-${name}`,
      '  context:',
      `    cluster: kind-${name}`,
      `    user: kind-${name}`,
      'users:',
      `- name: kind-${name}`,
      '  user:',
      '    token: shim',
      '',
    ].join('\n'),
  );
}

function kind() {
  const clusters = state('clusters', []);
  const name = flag('--name') ?? 'kind';
  switch (sub) {
    case 'version':
      return out(`kind ${process.env.SHIM_KIND_VERSION ?? pinned.kind} go1.25.5 linux/amd64`);
    case 'get':
      if (clusters.get().length === 0) return void process.stderr.write('No kind clusters found.\n');
      return out(clusters.get().join('\n'));
    case 'create': {
      if (process.env.SHIM_KIND_RACE && !clusters.get().includes(name)) clusters.set([...clusters.get(), name]);
      if (clusters.get().includes(name))
        fail(`ERROR: failed to create cluster: node(s) already exist for a cluster with the name "${name}"`);
      clusters.set([...clusters.get(), name]);
      const hung = state('create-hung', []);
      if (process.env.SHIM_KIND_HANG_ONCE && hung.get().length === 0) {
        // Half-built: the node container exists (kind lists it), kubeadm never finishes.
        hung.set([name]);
        setTimeout(() => {}, 120_000);
        return;
      }
      writeKubeconfig(flag('--kubeconfig') ?? process.env.KUBECONFIG, name);
      process.stderr.write(`Creating cluster "${name}" ...\n`);
      return;
    }
    case 'export':
      if (!clusters.get().includes(name)) fail(`ERROR: unknown cluster "${name}"`);
      return writeKubeconfig(flag('--kubeconfig') ?? process.env.KUBECONFIG, name);
    case 'delete':
      clusters.set(clusters.get().filter((c) => c !== name));
      return void process.stderr.write(`Deleting cluster "${name}" ...\n`);
    default:
      fail(`unknown command "${sub}" for "kind" (shim)`);
  }
}

function istioctl() {
  switch (sub) {
    case 'version':
      return out(`client version: ${process.env.SHIM_ISTIOCTL_VERSION ?? pinned.istio}`);
    case 'manifest': {
      // What `istioctl manifest generate -f` prints, cut down: a CRD, the mesh ConfigMap, istiod, the webhooks.
      const file = flag('-f');
      const mesh = (readFileSync(file, 'utf8').split('meshConfig:')[1] ?? '')
        .split('\n')
        .filter((l) => /^ {4}\S|^ {6}/.test(l))
        .map((l) => l.slice(4))
        .join('\n    ');
      return out(
        [
          'apiVersion: apiextensions.k8s.io/v1',
          'kind: CustomResourceDefinition',
          'metadata:',
          '  name: serviceentries.networking.istio.io',
          'spec:',
          '  group: networking.istio.io',
          '  names: { kind: ServiceEntry, plural: serviceentries }',
          '  scope: Namespaced',
          '---',
          'apiVersion: v1',
          'kind: ConfigMap',
          'metadata:',
          '  name: istio',
          '  namespace: istio-system',
          'data:',
          '  mesh: |-',
          `    ${mesh}`,
          '---',
          'apiVersion: apps/v1',
          'kind: Deployment',
          'metadata:',
          '  name: istiod',
          '  namespace: istio-system',
          'spec:',
          '  replicas: 1',
          '---',
          'apiVersion: admissionregistration.k8s.io/v1',
          'kind: MutatingWebhookConfiguration',
          'metadata:',
          '  name: istio-sidecar-injector',
          '---',
          'apiVersion: admissionregistration.k8s.io/v1',
          'kind: ValidatingWebhookConfiguration',
          'metadata:',
          '  name: istio-validator-istio-system',
        ].join('\n'),
      );
    }
    case 'proxy-status':
      return out('NAME  CLUSTER  ISTIOD  VERSION  SUBSCRIBED TYPES');
    case 'proxy-config':
      return out(`SERVICE FQDN  PORT  SUBSET  DIRECTION  TYPE  (${args[1]} ${args[2]})`);
    default:
      fail(`Error: unknown command "${sub}" for "istioctl" (shim)`);
  }
}

function openssl() {
  switch (sub) {
    case 'version':
      return out('OpenSSL 3.0.15 3 Sep 2024 (shim)');
    case 'req':
      writeFileSync(flag('-keyout'), '-----BEGIN PRIVATE KEY-----\nshim\n-----END PRIVATE KEY-----\n');
      writeFileSync(flag('-out'), '-----BEGIN CERTIFICATE-----\nshim\n-----END CERTIFICATE-----\n');
      return;
    default:
      fail(`openssl: ${sub}: unknown (shim)`);
  }
}
