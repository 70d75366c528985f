/** The top costs in a profile the benchmark wrote, as text, so it can be read without a browser. */
import { readFileSync } from 'node:fs';
import { parseScriptArgs, type Script, usageError, wholeNumber } from './script-args.ts';

const SCRIPT: Script = {
  name: 'profile-summary',
  usage: `usage: node scripts/profile-summary.ts FILE [--top N]

Prints the top costs in a profile written by \`npm run bench -- --profile DIR\`:
  *.cpuprofile    self time by function, and by where the code lives (src/, a package, node itself)
  *.heapprofile   bytes allocated (sampled) by function, and by where the code lives
  *.heapsnapshot  retained-at-snapshot bytes by object type and constructor (self sizes, after a GC)

  --top N     rows per table (default 25)
  -h, --help  print this help`,
};

const { values, positionals } = parseScriptArgs(SCRIPT, {
  allowPositionals: true,
  options: { top: { type: 'string', default: '25' } },
});
const TOP = wholeNumber(SCRIPT, 'top', values.top, 1);
const file = positionals[0];
if (file === undefined || positionals.length > 1) usageError(SCRIPT, 'give exactly one profile FILE');

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}
interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
}
interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** Where a frame's code lives: this project's file, a package, node's own code, or V8's pseudo-frames. */
function home(url: string, name: string): string {
  if (url === '') return name.startsWith('(') ? name : '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1] as string;
  const own = /\/((?:src|scripts|bin)\/.*)$/.exec(url);
  if (own) return own[1] as string;
  return url.startsWith('node:') ? 'node (core modules)' : url;
}

function table(rows: ReadonlyArray<readonly [string, number]>, total: number, unit: (n: number) => string) {
  for (const [what, n] of rows.slice(0, TOP)) {
    console.log(`${((n / total) * 100).toFixed(1).padStart(6)} %  ${unit(n).padStart(10)}  ${what}`);
  }
}

function summariseCpu(profile: CpuProfile): void {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const byFunction = new Map<string, number>();
  const byHome = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i] ?? 0;
    const frame = byId.get(id)?.callFrame;
    if (frame === undefined) return;
    total += us;
    const where = home(frame.url, frame.functionName);
    const fn = `${frame.functionName || '(anonymous)'}  ${where}:${frame.lineNumber + 1}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
    byHome.set(where, (byHome.get(where) ?? 0) + us);
  });
  const ms = (us: number) => `${(us / 1000).toFixed(0)} ms`;
  const sorted = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]);
  console.log(`${file}: ${ms(total)} sampled\n\nself time by where the code lives`);
  table(sorted(byHome), total, ms);
  console.log('\nself time by function');
  table(sorted(byFunction), total, ms);
}

interface AllocationNode {
  readonly callFrame: CallFrame;
  readonly selfSize: number;
  readonly children: readonly AllocationNode[];
}

function summariseAllocations(profile: { readonly head: AllocationNode }): void {
  const byFunction = new Map<string, number>();
  const byHome = new Map<string, number>();
  let total = 0;
  const visit = (node: AllocationNode) => {
    const frame = node.callFrame;
    const where = home(frame.url, frame.functionName);
    const fn = `${frame.functionName || '(anonymous)'}  ${where}:${frame.lineNumber + 1}`;
    total += node.selfSize;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + node.selfSize);
    byHome.set(where, (byHome.get(where) ?? 0) + node.selfSize);
    for (const child of node.children) visit(child);
  };
  visit(profile.head);
  const mb = (n: number) => `${(n / 2 ** 20).toFixed(1)} MB`;
  const sorted = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]);
  console.log(`${file}: ${mb(total)} allocated (sampled)\n\nallocations by where the code lives`);
  table(sorted(byHome), total, mb);
  console.log('\nallocations by function');
  table(sorted(byFunction), total, mb);
}

interface HeapSnapshot {
  readonly snapshot: { readonly meta: { readonly node_fields: string[]; readonly node_types: unknown[][] } };
  readonly nodes: readonly number[];
  readonly strings: readonly string[];
}

function summariseHeap(heap: HeapSnapshot): void {
  const fields = heap.snapshot.meta.node_fields;
  const types = heap.snapshot.meta.node_types[0] as string[];
  const width = fields.length;
  const [typeAt, nameAt, sizeAt] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f)) as [
    number,
    number,
    number,
  ];
  const byKind = new Map<string, { bytes: number; count: number }>();
  let total = 0;
  for (let i = 0; i < heap.nodes.length; i += width) {
    const type = types[heap.nodes[i + typeAt] as number] as string;
    const name = heap.strings[heap.nodes[i + nameAt] as number] ?? '';
    const bytes = heap.nodes[i + sizeAt] as number;
    // Strings and code are grouped by type: their "names" are their contents.
    const kind = type === 'object' || type === 'native' ? `${type} ${name}` : type;
    const entry = byKind.get(kind) ?? { bytes: 0, count: 0 };
    entry.bytes += bytes;
    entry.count++;
    byKind.set(kind, entry);
    total += bytes;
  }
  const mb = (n: number) => `${(n / 2 ** 20).toFixed(1)} MB`;
  console.log(`${file}: ${mb(total)} reachable\n\nbytes by object type (count)`);
  const rows = [...byKind].sort((a, b) => b[1].bytes - a[1].bytes);
  table(
    rows.map(([k, v]) => [`${k} (${v.count})`, v.bytes] as const),
    total,
    mb,
  );
}

function readProfile(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    return usageError(SCRIPT, `cannot read ${path} as a profile: ${(error as Error).message}`);
  }
}

const parsed = readProfile(file);
if (file.endsWith('.heapsnapshot')) summariseHeap(parsed as HeapSnapshot);
else if (file.endsWith('.heapprofile')) summariseAllocations(parsed as { head: AllocationNode });
else summariseCpu(parsed as CpuProfile);
