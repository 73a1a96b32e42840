// IP and CIDR arithmetic (IPv4 and IPv6), shared by the oracle, the admission checks and the
// control-plane evaluator: plumbing only, no egress rules live here.
import { isIP } from 'node:net';

export function ipToBigInt(ip: string): { v: bigint; bits: number } | undefined {
  const fam = isIP(ip);
  if (fam === 4) {
    return { v: ip.split('.').reduce((acc, o) => (acc << 8n) | BigInt(Number(o)), 0n), bits: 32 };
  }
  if (fam === 6) {
    const [head, tail = ''] = ip.includes('::') ? ip.split('::') : [ip, undefined as unknown as string];
    const h = head ? head.split(':') : [];
    const t = ip.includes('::') && tail ? tail.split(':') : [];
    const groups = ip.includes('::') ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h;
    return { v: groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g || '0', 16)), 0n), bits: 128 };
  }
  return undefined;
}

export function isCidr(s: string): boolean {
  const [ip, len, extra] = s.split('/');
  if (ip === undefined || extra !== undefined || len === undefined || !/^\d+$/.test(len)) return false;
  const parsed = ipToBigInt(ip);
  return !!parsed && Number(len) <= parsed.bits;
}

export function ipInCidr(ip: string, cidr: string): boolean {
  const [net, lenStr] = cidr.split('/');
  const a = ipToBigInt(ip);
  const n = ipToBigInt(net ?? '');
  if (!a || !n || a.bits !== n.bits) return false;
  const shift = BigInt(a.bits - Number(lenStr));
  return a.v >> shift === n.v >> shift;
}
