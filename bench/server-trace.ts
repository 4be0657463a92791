import { monitorEventLoopDelay, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';

/**
 * BENCH_TRACE=1: a benchmark server child reports on stderr, every 2 s, what sets its latency tail: event-loop delay,
 * GC pauses over 1 ms (by kind: minor = scavenge, major = mark-compact), CPU split into user and system time, context
 * switches and heap in use. Under load, a growing heap with regular major pauses means objects are promoted and then
 * dropped: the sampling heap profiler (includeObjectsCollectedByMajorGC) names where they are allocated.
 */
export function traceServer(name: string, everyMs = 2000): void {
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  const pauses: string[] = [];
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) if (entry.duration > 1) pauses.push(`${gcKind(entry)} ${entry.duration.toFixed(1)}`);
  }).observe({ entryTypes: ['gc'] });
  let cpu = process.cpuUsage();
  let usage = process.resourceUsage();
  setInterval(() => {
    const spent = process.cpuUsage(cpu);
    const now = process.resourceUsage();
    const percent = (us: number): string => `${((us / 1000 / everyMs) * 100).toFixed(0)}%`;
    process.stderr.write(
      `[${name}] loop delay p99 ${ms(delay.percentile(99))} max ${ms(delay.max)} ms; cpu user ${percent(spent.user)} sys ${percent(spent.system)}; ` +
        `context switches ${now.voluntaryContextSwitches - usage.voluntaryContextSwitches} + ${now.involuntaryContextSwitches - usage.involuntaryContextSwitches} forced; ` +
        `heap ${(process.memoryUsage().heapUsed / 2 ** 20).toFixed(0)} MiB; GC pauses > 1 ms: ${pauses.join(', ') || 'none'}\n`,
    );
    cpu = process.cpuUsage();
    usage = now;
    delay.reset();
    pauses.length = 0;
  }, everyMs).unref();
}

const ms = (ns: number): string => (ns / 1e6).toFixed(1);

function gcKind(entry: PerformanceEntry): string {
  const kind = (entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind;
  // perf_hooks.constants: NODE_PERFORMANCE_GC_MINOR 1, MAJOR 4, INCREMENTAL 8, WEAKCB 16.
  return kind === 1 ? 'minor' : kind === 4 ? 'major' : kind === 8 ? 'incremental' : `kind ${kind ?? '?'}`;
}
