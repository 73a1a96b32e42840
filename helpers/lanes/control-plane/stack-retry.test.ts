// The stack's start is tried once more when a port it picked was taken before it bound it, and only then.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ControlPlaneStack } from './stack.ts';

type StartOnce = (o: unknown) => Promise<unknown>;
const startOnce = () => vi.spyOn(ControlPlaneStack as unknown as { startOnce: StartOnce }, 'startOnce');
afterEach(() => vi.restoreAllMocks());

describe('ControlPlaneStack.start', () => {
  it('starts again on other ports after `address already in use`, and says so', async () => {
    const spy = startOnce()
      .mockRejectedValueOnce(new Error('pilot-discovery ended (exit 255): listen tcp 127.0.0.1:24294: bind: address already in use'))
      .mockResolvedValueOnce('the second stack');
    const said: string[] = [];
    await expect(ControlPlaneStack.start({ onProgress: (l: string) => said.push(l) } as never)).resolves.toBe('the second stack');
    expect(spy).toHaveBeenCalledTimes(2);
    expect(said.join('\n')).toMatch(/taken meanwhile by another process; starting again on other ports/);
  });

  it('does not retry any other failure, nor a second port clash', async () => {
    startOnce().mockRejectedValueOnce(new Error('kube-apiserver did not answer'));
    await expect(ControlPlaneStack.start({} as never)).rejects.toThrow(/did not answer/);
    const clash = new Error('bind: address already in use');
    const spy = startOnce().mockRejectedValue(clash);
    await expect(ControlPlaneStack.start({} as never)).rejects.toBe(clash);
    expect(spy).toHaveBeenCalledTimes(2);
  });
});
