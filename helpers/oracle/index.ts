// The oracle's public face: one source of truth for expected verdicts, used by every lane and report.
export { expectProbe, type OracleOptions } from './expect.ts';
export { parseIstioVersion, compareVersions, atLeast } from './version.ts';
