// Teardown (also on failure, Ctrl-C and SIGTERM): scenario leftovers on a cluster that stays, then the
// run's containers and its cluster (only if this run created it), then its temp dir. With --keep the
// cluster and the server containers stay (the cluster's CoreDNS points at them) and the run says how to
// remove them.
import type { RunContext } from '../context.ts';
import type { Runner } from '../runner.ts';
import type { RunState } from '../state.ts';
import { deleteClusterIfOurs } from './cluster.ts';
import { removeScenarioLeftovers } from './scenario.ts';
import { removeServers } from './servers.ts';

/** What to run by hand to remove what `--keep` left: the cluster and the run's server containers. */
export function keptCleanupCommands(ctx: RunContext): string[] {
  return [`kind delete cluster --name ${ctx.clusterName}`, `docker rm -f $(docker ps -aq --filter label=${ctx.runLabel})`];
}

export function teardownTitle(ctx: RunContext): string {
  return ctx.keep
    ? `teardown (--keep): keep cluster ${ctx.clusterName} and this run's server containers; remove the temp dir`
    : `teardown: remove this run's containers, its cluster (only if this run created it) and temp dir`;
}

export async function teardown(r: Runner, ctx: RunContext, state: RunState): Promise<void> {
  const clusterStays = !state.ownsCluster || ctx.keep;
  if (clusterStays && state.clusterReady && state.scenarioObjects.size > 0) {
    await r.cleanup('scenario leftovers', () => removeScenarioLeftovers(r, state));
  }
  if (ctx.keep) {
    const [deleteCluster, removeContainers] = keptCleanupCommands(ctx);
    r.note(
      `--keep: kept kind cluster ${ctx.clusterName} and this run's server containers (label ${ctx.runLabel}); ` +
        `kubectl access: kind export kubeconfig --name ${ctx.clusterName}. Remove them with: ${deleteCluster} && ${removeContainers}`,
    );
  } else {
    await r.cleanup('remove containers', () => removeServers(r, ctx));
    await r.cleanup('delete cluster', () => deleteClusterIfOurs(r, ctx, state));
  }
  await r.cleanup('remove temp dir', () => r.removeDir(ctx.workDir));
}
