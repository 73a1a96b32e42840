// Istio's and Envoy's regexes are RE2, matched against the whole value (safe_regex, StringMatch.regex). The lanes'
// evaluator and the model both read them here. JavaScript runs the RE2 patterns Istio users write, except for
// inline flags; the one in common use, a leading `(?i)`, becomes the `i` flag. A pattern JavaScript cannot compile
// matches nothing.
export function re2FullMatch(regex: string, value: string): boolean {
  const insensitive = regex.startsWith('(?i)');
  try {
    return new RegExp(`^(?:${insensitive ? regex.slice(4) : regex})$`, insensitive ? 'i' : '').test(value);
  } catch {
    return false;
  }
}
