// kwokctl's output when it fails, cut down to the cause for an error message: it logs JSON lines (slog),
// where the cause is buried among progress lines.

/** The cause after a colon: on the same line when it is one line, so a one-line summary carries it. */
export function failureCause(output: string): string {
  const t = tail(output);
  return t.includes('\n') ? `:\n${t}` : `: ${t}`;
}

/**
 * What went wrong, readably: kwokctl's ERROR lines carry the cause in `err` or `msg`. Anything else (a
 * plain-text failure) keeps its last lines.
 */
function tail(text: string, lines = 12): string {
  const errors = text
    .trim()
    .split('\n')
    .flatMap((line) => {
      try {
        const entry = JSON.parse(line) as { level?: string; msg?: string; err?: string };
        return entry.level === 'ERROR' ? [(entry.err ?? entry.msg ?? '').trim()] : [];
      } catch {
        return [];
      }
    })
    .filter((e) => e !== '');
  if (errors.length > 0) return [...new Set(errors)].join('\n');
  return text.trim().split('\n').slice(-lines).join('\n');
}
