// An exam's draw: `count` distinct labs spread across the curriculum's domains by weight (largest
// remainder), a domain with too few labs giving its places to the others, in random order.
import { DOMAINS, DOMAIN_WEIGHTS, type Domain } from './domains.ts';
import type { Lab } from './load.ts';

function shuffle<T>(xs: T[], random: () => number): T[] {
  const pool = [...xs];
  for (let i = pool.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [pool[i], pool[j]] = [pool[j] as T, pool[i] as T];
  }
  return pool;
}

/** How many tasks each domain gets, given how many labs each has. */
export function seats(available: Record<Domain, number>, count: number): Record<Domain, number> {
  const out = Object.fromEntries(DOMAINS.map((d) => [d, 0])) as Record<Domain, number>;
  let left = Math.min(
    count,
    DOMAINS.reduce((n, d) => n + available[d], 0),
  );
  while (left > 0) {
    const open = DOMAINS.filter((d) => out[d] < available[d]);
    const weight = open.reduce((n, d) => n + DOMAIN_WEIGHTS[d], 0);
    const share = open.map((d) => ({ d, want: (left * DOMAIN_WEIGHTS[d]) / weight }));
    let given = 0;
    for (const s of share) {
      const n = Math.min(Math.floor(s.want), available[s.d] - out[s.d]);
      out[s.d] += n;
      given += n;
    }
    if (given === 0) {
      // Every share is under one place: the largest remainder takes the next one.
      const best = share.sort((a, b) => b.want - a.want || DOMAINS.indexOf(a.d) - DOMAINS.indexOf(b.d))[0];
      if (!best) break;
      out[best.d] += 1;
      given = 1;
    }
    left -= given;
  }
  return out;
}

export function drawExam(labs: Lab[], count: number, random: () => number = Math.random): Lab[] {
  const byDomain = Object.fromEntries(
    DOMAINS.map((d) => [
      d,
      shuffle(
        labs.filter((l) => l.domain === d),
        random,
      ),
    ]),
  ) as Record<Domain, Lab[]>;
  const n = seats(Object.fromEntries(DOMAINS.map((d) => [d, byDomain[d].length])) as Record<Domain, number>, count);
  return shuffle(
    DOMAINS.flatMap((d) => byDomain[d].slice(0, n[d])),
    random,
  );
}
