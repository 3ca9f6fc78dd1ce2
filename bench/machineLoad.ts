// This machine is shared (other builds and tests run on it), and CPU contention inflates every
// latency measured here. Before each phase the bench waits, for a bounded time, until at least one
// CPU is idle, and it records how busy the whole machine was during the phase (from /proc/stat).
import { readFileSync } from 'node:fs';
import { sleep } from './stats';

interface CpuTimes {
  idle: number;
  total: number;
}

function cpuTimes(): CpuTimes | undefined {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const idle = fields[3] + (fields[4] ?? 0); // idle + iowait
    return { idle, total: fields.reduce((a, b) => a + b, 0) };
  } catch {
    return undefined; // not Linux
  }
}

/** Share (0..1) of all CPUs busy between two samples. */
function busyBetween(a: CpuTimes, b: CpuTimes): number {
  const total = b.total - a.total;
  return total > 0 ? 1 - (b.idle - a.idle) / total : 0;
}

/** Quiet = less than this share of all CPUs busy (on 2 CPUs: at least one idle). */
const QUIET_BELOW = 0.5;
const QUIET_SECONDS_IN_A_ROW = 3;
/** Per phase: wait at most this long for a quiet machine, then measure anyway (and say so)... */
export const QUIET_WAIT_MAX_MS = 120_000;
/** ...and at most this long over the whole run, so the bench stays around ten minutes. */
export const QUIET_WAIT_BUDGET_MS = 300_000;

/**
 * Waits until the machine has been quiet for a few seconds in a row, or maxMs; returns the ms waited (at least those
 * seconds).
 */
export async function waitForQuietMachine(maxMs: number, onWait: (busy: number) => void): Promise<number> {
  const started = Date.now();
  let quietInARow = 0;
  let reported = false;
  let previous = cpuTimes();
  if (!previous) return 0;
  while (quietInARow < QUIET_SECONDS_IN_A_ROW && Date.now() - started < maxMs) {
    await sleep(1000);
    const now = cpuTimes()!;
    const busy = busyBetween(previous, now);
    previous = now;
    quietInARow = busy < QUIET_BELOW ? quietInARow + 1 : 0;
    if (busy >= QUIET_BELOW && !reported) {
      onWait(busy);
      reported = true;
    }
  }
  return Date.now() - started;
}

/** Starts measuring; the returned function tells how busy all CPUs were since (0..100 %, whoever used them). */
export function startBusyMeter(): () => number {
  const before = cpuTimes();
  return () => {
    const after = cpuTimes();
    return before && after ? Math.round(busyBetween(before, after) * 100) : Number.NaN;
  };
}
