// Small numeric helpers shared by the scenarios.

/** Nearest-rank percentile (p in 0..100) of the samples; NaN when there are none. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1];
}

export interface Distribution {
  p50: number;
  p95: number;
}

export interface DetailedDistribution extends Distribution {
  n: number;
  min: number;
  max: number;
  mean: number;
}

export function distribution(samples: readonly number[]): DetailedDistribution {
  const n = samples.length;
  return {
    p50: round(percentile(samples, 50)),
    p95: round(percentile(samples, 95)),
    n,
    min: round(n ? Math.min(...samples) : Number.NaN),
    max: round(n ? Math.max(...samples) : Number.NaN),
    mean: round(n ? samples.reduce((a, b) => a + b, 0) / n : Number.NaN),
  };
}

export function round(value: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

export function median(samples: readonly number[]): number {
  return percentile(samples, 50);
}

/** Progress goes to stderr so that `--json` keeps stdout for the one JSON document. */
export function progress(message: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
