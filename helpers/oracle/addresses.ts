// IP and CIDR helpers for ServiceEntry addresses (IPv4 and IPv6).
import { isIP } from 'node:net';

function toBigInt(ip: string): { value: bigint; bits: number } | undefined {
  const fam = isIP(ip);
  if (fam === 4) {
    return { value: ip.split('.').reduce((acc, o) => (acc << 8n) | BigInt(Number(o)), 0n), bits: 32 };
  }
  if (fam === 6) {
    const [head, tail = ''] = ip.includes('::') ? ip.split('::') : [ip, undefined as unknown as string];
    const h = head ? head.split(':') : [];
    const t = ip.includes('::') && tail ? tail.split(':') : [];
    const groups = ip.includes('::') ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h;
    return { value: groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g || '0', 16)), 0n), bits: 128 };
  }
  return undefined;
}

export function isCidr(s: string): boolean {
  const [ip, len, extra] = s.split('/');
  if (extra !== undefined || len === undefined || !/^\d+$/.test(len)) return false;
  const parsed = toBigInt(ip);
  return !!parsed && Number(len) <= parsed.bits;
}

export function ipInCidr(ip: string, cidr: string): boolean {
  const [net, lenStr] = cidr.split('/');
  const a = toBigInt(ip);
  const n = toBigInt(net);
  if (!a || !n || a.bits !== n.bits) return false;
  const shift = BigInt(a.bits - Number(lenStr));
  return a.value >> shift === n.value >> shift;
}
