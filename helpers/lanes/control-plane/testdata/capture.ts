// Regenerates the real-istiod snapshots used by evaluator.test.ts:
//   npx tsx helpers/lanes/control-plane/testdata/capture.ts
// Each fixture is what a sidecar in `frontend` received from the pinned pilot-discovery, trimmed to the
// fields the evaluator reads (inbound listener, stats and access-log config dropped) to stay small.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { PolicyMode } from '../../../model/types.ts';
import type { XdsSnapshot } from '../xds-types.ts';
import { ControlPlaneLane } from '../lane.ts';
import { parseProbeUrl } from '../../../probes/url.ts';
import { API_HTTP, DB_TCP, DB_WITH_ADDRESS, resources, WILDCARD_TLS } from './resources.ts';

const DROP = new Set([
  'access_log',
  'http_filters',
  'tracing',
  'upgrade_configs',
  'typed_extension_protocol_options',
  'metadata',
  'circuit_breakers',
  'common_http_protocol_options',
  'stat_prefix',
  'request_id_extension',
  'retry_policy',
  'decorator',
  'transport_socket',
  'transport_socket_matches',
  'load_assignment',
  'dns_lookup_family',
  'alt_stat_name',
  'common_lb_config',
  'max_connections_to_accept_per_socket_event',
  'max_direct_response_body_size_bytes',
  'request_headers_to_remove',
  'internal_address_config',
  'local_reply_config',
]);

function strip(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(strip);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      if (DROP.has(k)) continue;
      if (k === 'filters' && Array.isArray(x)) {
        // Keep only the filters the evaluator looks at (HCM, TCP proxy).
        out[k] = x.filter((f: any) => /http_connection_manager|tcp_proxy/.test(f.name ?? '')).map(strip);
        continue;
      }
      out[k] = strip(x);
    }
    return out;
  }
  return v;
}

export function trimSnapshot(s: XdsSnapshot): XdsSnapshot {
  return {
    clusters: s.clusters.filter((c) => c.name !== 'InboundPassthroughCluster').map((c) => strip(c) as any),
    listeners: s.listeners.filter((l) => l.name !== 'virtualInbound').map((l) => strip(l) as any),
    routes: s.routes.map((r) => strip(r) as any),
    versions: {},
  };
}

async function main(): Promise<void> {
  const lane = new ControlPlaneLane();
  const info = await lane.setup();
  try {
    for (const policy of ['REGISTRY_ONLY', 'ALLOW_ANY'] as PolicyMode[]) {
      await lane.applyScenario('capture', policy, resources([DB_TCP, API_HTTP, WILDCARD_TLS, DB_WITH_ADDRESS]));
      const { snapshot: snap } = await lane.snapshotFor({
        from: { namespace: 'frontend' },
        to: parseProbeUrl('tcp://capture.example.com:1'),
      });
      const file = fileURLToPath(new URL(`./snapshot-frontend-${policy}.json`, import.meta.url));
      writeFileSync(
        file,
        `${JSON.stringify({ capturedFrom: `pilot-discovery ${info.details.goModuleVersion}`, ...trimSnapshot(snap) }, null, 1)}\n`,
      );
      console.log(`wrote ${file}`);
    }
  } finally {
    await lane.teardown();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await main();
}
