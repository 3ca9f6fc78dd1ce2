// Where the bench finds the product: the built bundles in dist/ (what users run).
import { join } from 'node:path';
import type * as EngineModule from '../src/core';

/** The repository root (this file runs from out/bench/). */
export const REPO_ROOT = join(__dirname, '..', '..');
/** BENCH_ENGINE_BUNDLE: try another engine build (e.g. a branch's) against the same bench. */
export const ENGINE_BUNDLE = process.env.BENCH_ENGINE_BUNDLE || join(REPO_ROOT, 'dist', 'engine.js');
export const EXTENSION_BUNDLE = join(REPO_ROOT, 'dist', 'extension.js');

export function loadEngine(): typeof EngineModule {
  return require(ENGINE_BUNDLE) as typeof EngineModule;
}

/** Rejects when `work` takes longer than `ms` (a stuck policy must not hang the bench). */
export function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms / 1000} s`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/** Epoch ms from a `date +%s%N` line. */
export function nanosToMs(text: string): number {
  const ns = BigInt(text.trim());
  return Number(ns / 1000n) / 1000;
}

/** The last non-empty line of a text. */
export function lastLine(text: string): string {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  return lines[lines.length - 1] ?? '';
}
