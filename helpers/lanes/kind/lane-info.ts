// What a kind run reports about itself: the tools it resolved (their versions and where they came from),
// the cluster, the images, and the facts its phases learned.
import type { LaneInfo } from '../lane.ts';
import type { ResolvedTool } from '../../tools/resolve.ts';
import type { RunContext } from './context.ts';
import type { RunState } from './state.ts';

/** `tools`: what the live runner resolved; none for the dry run, which reports the pinned versions. */
export function kindLaneInfo(ctx: RunContext, state: RunState, tools?: ReadonlyMap<string, ResolvedTool>): LaneInfo {
  const details: Record<string, string> = {
    kind: tools?.get('kind')?.version ?? ctx.versions.kind,
    kindNodeImage: ctx.versions.kindNodeImage,
    cluster: ctx.clusterName,
    runId: ctx.runId,
    ...Object.fromEntries(Object.entries(ctx.versions.images).map(([k, v]) => [`image.${k}`, v])),
    ...state.facts,
  };
  const istioctl = tools?.get('istioctl');
  if (istioctl) details.istioctl = `${istioctl.version} (${istioctl.source})`;
  return { lane: 'kind', istioVersion: istioctl?.version ?? ctx.istioVersion, details };
}
