// Statistics, targets and the printed table of the benchmark. The JSON report (bench.json) holds
// the same numbers as the table, plus every single run.
import { MiB } from './bench-data.ts';

export interface RunRecord {
  /** Wall time of the command. */
  seconds: number;
  /** Wall time plus fsync of every output file afterwards (peers do not fsync; Reelpack does, so 0 extra). */
  durableSeconds: number;
  maxRssKiB: number | null;
  treeRssKiB: number | null;
  treePssKiB: number | null;
  /** Extra per-run numbers (e.g. the average rate a tool reported). */
  extra?: Record<string, number>;
}

export type Group = 'download' | 'bundle' | 'e2e' | 'rss' | 'throttled' | 'limit';

export interface ToolResult {
  id: string;
  label: string;
  group: Group;
  command: string;
  /** Bytes the tool moves in one run (for MiB/s). */
  bytes: number;
  runs: RunRecord[];
  /** Why there are no runs ("n/a (not implemented)"). */
  skipped?: string;
  errors?: string[];
}

export interface ToolSummary {
  id: string;
  label: string;
  group: Group;
  command: string;
  bytes: number;
  runs: number;
  skipped?: string;
  medianSeconds: number | null;
  minSeconds: number | null;
  maxSeconds: number | null;
  mibps: number | null;
  durableMedianSeconds: number | null;
  durableMibps: number | null;
  /** Largest single process over all runs (MB = 10^6 bytes, /usr/bin/time). */
  maxRssMB: number | null;
  /** Peak summed over the process tree, over all runs (MB, sampled). */
  treeRssMB: number | null;
  treePssMB: number | null;
  /** Runs that failed (not counted in the timings). */
  errors?: string[];
  extra?: Record<string, number>;
}

export interface Target {
  name: string;
  scope: string;
  /** Measured value (a ratio, or MiB for memory); null = not measurable (n/a). */
  value: number | null;
  comparator: '>=' | '<=';
  target: number;
  unit: '×' | 'MB' | '%';
  ok: boolean | null;
  note?: string;
}

export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function maxOf(values: ReadonlyArray<number | null>): number | null {
  const real = values.filter((v): v is number => v !== null);
  return real.length ? Math.max(...real) : null;
}

const toMB = (kib: number | null) => (kib === null ? null : (kib * 1024) / 1e6);

export function summarize(tool: ToolResult): ToolSummary {
  const times = tool.runs.map((r) => r.seconds);
  const durable = tool.runs.map((r) => r.durableSeconds);
  const med = median(times);
  const durableMed = median(durable);
  const summary: ToolSummary = {
    id: tool.id,
    label: tool.label,
    group: tool.group,
    command: tool.command,
    bytes: tool.bytes,
    runs: tool.runs.length,
    medianSeconds: med,
    minSeconds: times.length ? Math.min(...times) : null,
    maxSeconds: times.length ? Math.max(...times) : null,
    mibps: med ? tool.bytes / MiB / med : null,
    durableMedianSeconds: durableMed,
    durableMibps: durableMed ? tool.bytes / MiB / durableMed : null,
    maxRssMB: toMB(maxOf(tool.runs.map((r) => r.maxRssKiB))),
    treeRssMB: toMB(maxOf(tool.runs.map((r) => r.treeRssKiB))),
    treePssMB: toMB(maxOf(tool.runs.map((r) => r.treePssKiB))),
  };
  if (tool.skipped) summary.skipped = tool.skipped;
  if (tool.errors?.length) summary.errors = tool.errors;
  const extraKeys = new Set(tool.runs.flatMap((r) => Object.keys(r.extra ?? {})));
  if (extraKeys.size) {
    summary.extra = {};
    for (const key of extraKeys) {
      const m = median(tool.runs.map((r) => r.extra?.[key]).filter((v): v is number => v !== undefined));
      if (m !== null) summary.extra[key] = m;
    }
  }
  return summary;
}

/** Speed of `a` relative to `b` (>1: a is faster), from median wall times. */
export function speedRatio(a: ToolSummary | undefined, b: ToolSummary | undefined, durable = false): number | null {
  const ta = durable ? a?.durableMedianSeconds : a?.medianSeconds;
  const tb = durable ? b?.durableMedianSeconds : b?.medianSeconds;
  return ta && tb ? tb / ta : null;
}

export function target(name: string, scope: string, value: number | null, comparator: '>=' | '<=', goal: number, unit: Target['unit'], note?: string): Target {
  const t: Target = { name, scope, value, comparator, target: goal, unit, ok: value === null ? null : comparator === '>=' ? value >= goal : value <= goal };
  if (note) t.note = note;
  return t;
}

// ---------- printing ----------

const fmt = (v: number | null, digits = 2) => (v === null ? '–' : v.toFixed(digits));
const fmtMB = (v: number | null) => (v === null ? '–' : v >= 100 ? v.toFixed(0) : v.toFixed(1));

export function mark(t: Target): string {
  return t.ok === null ? 'n/a' : t.ok ? 'ok' : 'MISS';
}

export function toolTable(summaries: readonly ToolSummary[]): string {
  const header = ['tool', 'median s', 'min–max s', 'MiB/s', '+fsync MiB/s', 'max RSS MB', 'tree RSS MB', 'tree PSS MB', 'runs'];
  const rows = summaries.map((s) =>
    s.skipped
      ? [s.label, s.skipped, '', '', '', '', '', '', '0']
      : [
        s.label,
        fmt(s.medianSeconds),
        `${fmt(s.minSeconds)}–${fmt(s.maxSeconds)}`,
        fmt(s.mibps, 0),
        fmt(s.durableMibps, 0),
        fmtMB(s.maxRssMB),
        fmtMB(s.treeRssMB),
        fmtMB(s.treePssMB),
        s.errors?.length ? `${s.runs} (+${s.errors.length} failed)` : String(s.runs),
      ]);
  return formatRows([header, ...rows]);
}

export function targetTable(targets: readonly Target[]): string {
  const header = ['target', 'scope', 'measured', 'goal', ''];
  const notes: string[] = [];
  const rows = targets.map((t) => [
    t.name,
    t.scope,
    t.value === null ? 'n/a' : t.unit === '×' ? `${t.value.toFixed(2)}×` : `${t.value.toFixed(t.unit === '%' ? 1 : 0)} ${t.unit}`,
    `${t.comparator} ${t.target}${t.unit === '×' ? '×' : ` ${t.unit}`}`,
    mark(t) + (t.note ? ` [${notes.push(t.note)}]` : ''),
  ]);
  return [formatRows([header, ...rows]), ...notes.map((note, i) => `[${i + 1}] ${note}`)].join('\n');
}

function formatRows(rows: string[][]): string {
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((r) => (r[col] ?? '').length)));
  return rows
    .map((row, i) => {
      const line = row.map((cell, col) => (col === 0 ? cell.padEnd(widths[col]!) : cell.padStart(widths[col]!))).join('  ');
      return i === 0 ? `${line}\n${'-'.repeat(line.length)}` : line;
    })
    .join('\n');
}
