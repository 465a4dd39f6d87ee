// CPU accounting for the benchmarks: how many CPU seconds each process under test spent on a run,
// read from /proc, so a table can show the cost per request beside the throughput (on two shared
// cores, throughput alone mixes a proxy's own cost with who it competes with).
import { readFileSync } from 'node:fs';

/** CPU seconds (user + system) a process and its live children have used so far; 0 when gone. */
export function cpuSeconds(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // After "pid (comm) ", utime and stime are the 12th and 13th fields (proc(5): 14 and 15).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(' ').filter(Boolean);
    return (
      (Number(fields[11]) + Number(fields[12])) / TICKS +
      children.reduce((sum, child) => sum + cpuSeconds(Number(child)), 0)
    );
  } catch {
    return 0;
  }
}

/** Busy CPU seconds of the whole machine (every process, other users' included). */
function machineBusySeconds(): number {
  const [, user, nice, system, , , irq, softirq, steal] = readFileSync('/proc/stat', 'utf8')
    .split('\n')[0]!
    .trim()
    .split(/\s+/)
    .map(Number);
  return (user! + nice! + system! + irq! + softirq! + steal!) / TICKS;
}
const TICKS = 100; // USER_HZ, 100 on every Linux ABI Node runs on

/** Runs `work` and prints how many CPU seconds each process (and everything else) spent on it. */
export async function accounted<T extends object>(
  processes: Record<string, () => number | undefined>,
  work: () => Promise<T>,
  benchName = 'bench (autocannon)',
): Promise<T & { cpu: Record<string, number> }> {
  const before = Object.fromEntries(Object.entries(processes).map(([name, pid]) => [name, cpuSeconds(pid())]));
  const benchBefore = process.cpuUsage();
  const machineBefore = machineBusySeconds();
  const started = performance.now();
  const result = await work();
  const wall = (performance.now() - started) / 1000;
  const used: Record<string, number> = Object.fromEntries(
    Object.entries(processes).map(([name, pid]) => [name, cpuSeconds(pid()) - before[name]!]),
  );
  const bench = process.cpuUsage(benchBefore);
  used[benchName] = (bench.user + bench.system) / 1e6;
  const known = Object.values(used).reduce((a, b) => a + b, 0);
  used.other = Math.max(0, machineBusySeconds() - machineBefore - known);
  console.log(
    `          CPU s over ${wall.toFixed(1)} s: ${Object.entries(used)
      .map(([name, s]) => `${name} ${s.toFixed(2)}`)
      .join(', ')}`,
  );
  return { ...result, cpu: used };
}
