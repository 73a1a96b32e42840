// Grading files (`lab check -f`, an exam answered with files) on the real istiod: the warm stack when
// `egress-conformance up` keeps one, else a control-plane lane set up once and reused until closed. Never the model: without the pinned
// tools it refuses with the commands that build them (exit 3).
import { EnvironmentError } from '../model/errors.ts';
import type { Lane } from '../lanes/lane.ts';
import { acquireStack, usableWarm } from '../stack/acquire.ts';
import { PINNED_PILOT } from '../tools/pilot-discovery.ts';
import { controlPlaneMissing } from '../lanes/control-plane/requirements.ts';
import type { LabState } from './apply.ts';
import { gradeOnLane, type LabGrade } from './grade.ts';
import type { Lab } from './load.ts';
import { LAB_ISTIO_VERSION } from './version.ts';

export interface FileGrader {
  /** "istiod <version>": who decides. */
  name: string;
  grade(lab: Lab, state: LabState): Promise<LabGrade>;
  close(): Promise<void>;
}

/** The refusal when the real istiod cannot run here: what is missing and the commands that build it. */
export function requireIstiod(env: NodeJS.ProcessEnv = process.env): void {
  const missing = controlPlaneMissing(env);
  if (missing) throw new EnvironmentError(`labs are graded on the real istiod only, and ${missing}`);
}

/** A grader over a lane the caller already set up (and tears down). */
export function laneGrader(lane: Lane, name: string): FileGrader {
  return {
    name,
    grade: (lab, state) => gradeOnLane(lab, state.resources, lane, name, LAB_ISTIO_VERSION, state.notes),
    close: async () => {},
  };
}

/**
 * A grader on the warm stack when `egress-conformance up` has one running the pinned build, else on a
 * stack started for this grading (ended by close()). The model never grades: no stack, no grade.
 */
export async function openLaneGrader(say: (line: string) => void, env: NodeJS.ProcessEnv = process.env): Promise<FileGrader> {
  if (!usableWarm({ pin: PINNED_PILOT, say: () => {}, env })) requireIstiod(env);
  const stack = await acquireStack({ pin: PINNED_PILOT, say, env });
  try {
    const info = await stack.lane.setup();
    const g = laneGrader(stack.lane, `istiod ${info.istioVersion}${stack.warm ? ' (warm stack)' : ''}`);
    return { ...g, close: () => stack.release() };
  } catch (e) {
    await stack.release();
    throw e;
  }
}
