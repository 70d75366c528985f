/**
 * Sum of the samples of metric `name` in a Prometheus text exposition (a /metrics body) whose line
 * contains `labels` (0 when absent). Shared by the tests, the demo and the benchmark.
 */
export function sample(text: string, name: string, labels = ''): number {
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `))
    .filter((l) => l.includes(labels))
    .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
}
