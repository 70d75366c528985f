/**
 * The metric names a PromQL expression reads: what is left once strings, label matchers, ranges,
 * numbers, label lists (`by (…)`, `on (…)`, …), keywords and function calls are taken out. Enough for
 * the expressions of the rule file and the dashboard, which use no offsets or subqueries.
 */
const KEYWORDS = new Set(['and', 'or', 'unless', 'by', 'without', 'on', 'ignoring', 'bool', 'inf', 'nan']);

export function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, ' ')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/(?<![\w:])\d+(?:\.\d+)?(?:e[+-]?\d+)?/gi, ' ');
  const names = new Set<string>();
  for (const [, name, call] of bare.matchAll(/([a-zA-Z_:][\w:]*)(\s*\()?/g)) {
    if (!call && name && !KEYWORDS.has(name)) names.add(name);
  }
  return [...names].sort();
}

/**
 * The series names a /metrics body can be queried by: every family of its `# TYPE` lines (a labelled
 * family with no sample yet has one too), with `_bucket`, `_sum` and `_count` for histograms and
 * `_sum`, `_count` for summaries.
 */
export function exportedNames(exposition: string): Set<string> {
  const names = new Set<string>();
  for (const [, family, type] of exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    if (!family) continue;
    names.add(family);
    const suffixes =
      type === 'histogram' ? ['_bucket', '_sum', '_count'] : type === 'summary' ? ['_sum', '_count'] : [];
    for (const s of suffixes) names.add(`${family}${s}`);
  }
  return names;
}
