// What a command and the warm stack's answer server say to each other over its Unix socket: one JSON
// request line, then one JSON line per answer and a last line that ends the exchange.
import type { Observation, PolicyMode, Probe, ResourceSet } from '../model/types.ts';

export interface AnswerRequest {
  /** The asking command's code id (code-id.ts): a server running other code answers `stale`. */
  codeId: string;
  policy: PolicyMode;
  resources: ResourceSet;
  probes: Probe[];
}

export type AnswerLine =
  /** One probe's observation, in the order asked (without the xDS it was read from: the asker shows the path). */
  | { type: 'observation'; observation: Observation }
  | { type: 'done' }
  /** The server runs other code than the asker: the asker answers by itself. */
  | { type: 'stale'; codeId: string }
  /** Another command holds the stack (lease.ts): nothing was applied. */
  | { type: 'busy'; holder: string }
  | { type: 'error'; message: string };

/** Where the server of a stack listens: inside the stack's run dir, so `down` removes it with the rest. */
export const answerSocketIn = (runDir: string) => `${runDir}/answers.sock`;
