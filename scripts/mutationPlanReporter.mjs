// A Stryker reporter (stryker.config.json: "plugins", "reporters") that writes what a run is about to
// cost before it starts, to reports/mutation/plan.json: each test file's time in the initial run, and
// for each mutant the test files that reach it (in the order they run) and its "net time" (those
// files' times added up: what the mutant costs when it survives). The log line gives the worst case
// (every mutant survives) and the run's cost in test-file starts, so a config change can be judged
// within minutes instead of after a full run (docs/testing.md, "What a mutant costs").
// While the mutants run it appends each one's result to reports/mutation/tested.jsonl: Stryker writes its
// own report only at the end, so a run stopped early (a 2-CPU machine, a session's end) still leaves what
// it found, and the rate at which it went.
import fs from 'node:fs';
import path from 'node:path';
import { PluginKind, declareClassPlugin, commonTokens } from '@stryker-mutator/api/plugin';

const OUTPUT = 'reports/mutation/plan.json';
const JOURNAL = 'reports/mutation/tested.jsonl';

class MutationPlanReporter {
  static inject = [commonTokens.logger];
  tests = [];

  constructor(logger) {
    this.logger = logger;
  }

  onDryRunCompleted({ result, timing }) {
    this.timing = timing;
    this.tests = result.tests.map((t) => ({ file: relative(t.id), ms: Math.round(t.timeSpentMs) }));
  }

  onMutationTestingPlanReady({ mutantPlans }) {
    const mutants = mutantPlans.map(({ plan, mutant, runOptions, netTime }) => ({
      id: mutant.id,
      file: mutant.fileName.split(path.sep).join('/'),
      line: mutant.location.start.line + 1,
      mutator: mutant.mutatorName,
      replacement: mutant.replacement,
      ...(plan === 'Run'
        ? {
            tests: (runOptions.testFilter ?? []).map(relative),
            netMs: Math.round(netTime),
            timeoutMs: runOptions.timeout,
          }
        : { status: mutant.status }),
    }));
    const run = mutants.filter((m) => m.tests);
    const worstMs = run.reduce((sum, m) => sum + m.netMs, 0);
    const starts = run.reduce((sum, m) => sum + m.tests.length, 0);
    fs.mkdirSync(path.dirname(OUTPUT), { recursive: true });
    fs.writeFileSync(OUTPUT, JSON.stringify({ timing: this.timing, tests: this.tests, mutants }, null, 1));
    fs.writeFileSync(JOURNAL, '');
    this.startedAt = Date.now();
    this.logger.info(
      `${run.length} mutants to run (${mutants.length - run.length} decided without running); if all survived: ` +
        `${(worstMs / 60_000).toFixed(1)} min of test time and ${starts} test-file starts, one runner. Plan: ${OUTPUT}`,
    );
  }

  onMutantTested(result) {
    const line = {
      atMs: Date.now() - (this.startedAt ?? Date.now()),
      id: result.id,
      file: path.relative(process.cwd(), result.fileName).split(path.sep).join('/'),
      line: result.location.start.line + 1,
      mutator: result.mutatorName,
      replacement: result.replacement,
      status: result.status,
      ...(result.killedBy?.length ? { killedBy: result.killedBy.map(relative) } : {}),
    };
    fs.appendFileSync(JOURNAL, `${JSON.stringify(line)}\n`);
  }
}

/** Stryker's test ids are the sandbox's paths; the plan keeps them relative (out/test/...). */
function relative(file) {
  const at = file.split(path.sep).join('/').lastIndexOf('/out/');
  return at < 0 ? file : file.slice(at + 1);
}

export const strykerPlugins = [declareClassPlugin(PluginKind.Reporter, 'mutation-plan', MutationPlanReporter)];
