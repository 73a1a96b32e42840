// The probe commands as argv: which client probes what, and the flags that keep a probe's answer its own.
// That the argv really behaves so against servers is real-clients.test.ts's part.
import { describe, expect, it } from 'vitest';
import type { ProbeTarget } from '../../../model/types.ts';
import { parseProbeUrl } from '../../../probes/url.ts';
import { PROBE_MARKER, probeCommand, probeContainer } from './commands.ts';

const t = (url: string): ProbeTarget => parseProbeUrl(url);

describe('probeContainer / probeCommand', () => {
  it('uses psql for tcp://…:5432 only, curl for everything else', () => {
    expect(probeContainer(t('tcp://db.example.com:5432'))).toBe('psql');
    expect(probeContainer(t('tcp://db.example.com:5433'))).toBe('curl');
    expect(probeContainer(t('http://db.example.com:5432'))).toBe('curl');
    expect(probeContainer(t('https://api.example.com'))).toBe('curl');
  });

  it('builds a curl argv that ignores curlrc and proxies, keeps headers and ends with the marker', () => {
    const argv = probeCommand(t('http://api.example.com/x?y=1'));
    expect(argv[0]).toBe('curl');
    expect(argv[1]).toBe('-q'); // must be first to skip .curlrc
    expect(argv).toContain('-sS');
    expect(argv.slice(argv.indexOf('--noproxy'), argv.indexOf('--noproxy') + 2)).toEqual(['--noproxy', '*']);
    expect(argv.slice(argv.indexOf('-D'), argv.indexOf('-D') + 2)).toEqual(['-D', '-']);
    expect(argv[argv.indexOf('-w') + 1]).toMatch(new RegExp(`^\\\\n${PROBE_MARKER} exit=%\\{exitcode\\} status=%\\{http_code\\}`));
    expect(argv).not.toContain('-k');
    expect(argv.at(-1)).toBe('http://api.example.com:80/x?y=1');
    expect(argv.slice(argv.indexOf('--connect-timeout'), argv.indexOf('--connect-timeout') + 2)).toEqual(['--connect-timeout', '5']);
    expect(argv.slice(argv.indexOf('--max-time'), argv.indexOf('--max-time') + 2)).toEqual(['--max-time', '10']);
  });

  it('accepts the self-signed cert for https and keeps the hostname in the URL (SNI)', () => {
    const argv = probeCommand(t('https://api.example.com'), { resolve: '127.0.0.1', connectTimeoutSec: 2, maxTimeSec: 4 });
    expect(argv).toContain('-k');
    expect(argv.slice(argv.indexOf('--resolve'), argv.indexOf('--resolve') + 2)).toEqual(['--resolve', 'api.example.com:443:127.0.0.1']);
    expect(argv.at(-1)).toBe('https://api.example.com:443/');
    expect(argv[argv.indexOf('--max-time') + 1]).toBe('4');
  });

  it('maps resolve IP:PORT to --connect-to, and brackets IPv6', () => {
    const a = probeCommand(t('http://api.example.com:8080/p'), { resolve: '127.0.0.1:4000' });
    expect(a.slice(a.indexOf('--connect-to'), a.indexOf('--connect-to') + 2)).toEqual([
      '--connect-to',
      'api.example.com:8080:127.0.0.1:4000',
    ]);
    expect(a).not.toContain('--resolve');
    const b = probeCommand(t('http://[fd00::5]:8080/'), { resolve: '[::1]:4000' });
    expect(b.slice(b.indexOf('--connect-to'), b.indexOf('--connect-to') + 2)).toEqual(['--connect-to', '[fd00::5]:8080:[::1]:4000']);
    expect(b.at(-1)).toBe('http://[fd00::5]:8080/');
    expect(() => probeCommand(t('http://a.example.com'), { resolve: 'not-an-ip' })).toThrow(/resolve/);
  });

  it('probes other tcp ports with curl telnet:// and a short hold window, without header capture', () => {
    const argv = probeCommand(t('tcp://10.1.2.3:6379'));
    expect(argv.at(-1)).toBe('telnet://10.1.2.3:6379');
    expect(argv).not.toContain('-D');
    expect(argv[argv.indexOf('--max-time') + 1]).toBe('3');
  });

  it('runs a real query with psql, credentials and timeouts in the conninfo, quoted', () => {
    const pg = { user: 'u', password: "it's a \\ pw", database: 'd' };
    const argv = probeCommand(t('tcp://db.example.com:5432'), { pg, connectTimeoutSec: 3, resolve: '127.0.0.1:6000' });
    expect(argv.slice(0, 8)).toEqual(['psql', '-X', '-w', '-v', 'ON_ERROR_STOP=1', '-tA', '-c', 'select 1']);
    expect(argv[8]).toBe('-d');
    expect(argv[9]).toBe(
      "host='db.example.com' hostaddr='127.0.0.1' port='6000' user='u' password='it\\'s a \\\\ pw' dbname='d' " +
        "connect_timeout='3' sslmode='disable' application_name='egress-probe'",
    );
    expect(() => probeCommand(t('tcp://db.example.com:5432'))).toThrow(/opts\.pg/);
  });
});
