// Test-only extension. When code-server is started with EC2_RUNNER_E2E_SUITES (the compiled
// extension-host suites entry, exporting run()) and EC2_RUNNER_E2E_RESULTS (a JSON file path), it
// runs the suites inside this real extension host and writes a
// results file { ok, error, tests: [{ title, state, durationMs, error }], durationMs }; the
// harness waits for that file.
'use strict';
const fs = require('fs');
const path = require('path');

function activate() {
  const suitesEntry = process.env.EC2_RUNNER_E2E_SUITES;
  const resultsFile = process.env.EC2_RUNNER_E2E_RESULTS;
  if (!suitesEntry || !resultsFile) return;
  // A window reload restarts the extension host; run the suites once per harness run only.
  const startedFile = `${resultsFile}.started`;
  if (fs.existsSync(startedFile)) return;
  fs.writeFileSync(startedFile, String(process.pid));
  setTimeout(() => void runSuites(suitesEntry, resultsFile), 0);
}

async function runSuites(suitesEntry, resultsFile) {
  const started = Date.now();
  const tests = [];
  let ok = false;
  let error;
  try {
    recordMochaResults(suitesEntry, tests);
    const suites = require(suitesEntry);
    if (typeof suites.run !== 'function') throw new Error(`${suitesEntry} does not export run()`);
    await callRun(suites.run, suitesEntry);
    ok = true;
  } catch (caught) {
    error = caught && caught.stack ? caught.stack : String(caught);
  }
  const result = { ok, error, tests, durationMs: Date.now() - started };
  fs.writeFileSync(`${resultsFile}.tmp`, JSON.stringify(result, null, 2));
  fs.renameSync(`${resultsFile}.tmp`, resultsFile);
}

// The extension host swallows console and stdout (it forwards them to the window), so the
// reporter's text never reaches us. Instead, listen to the runner of the same mocha module the
// suites load and record each test's outcome.
function recordMochaResults(suitesEntry, tests) {
  const Mocha = require(require.resolve('mocha', { paths: [path.dirname(suitesEntry)] }));
  const originalRun = Mocha.prototype.run;
  Mocha.prototype.run = function (...args) {
    const runner = originalRun.apply(this, args);
    const record = (state) => (test, err) =>
      tests.push({
        title: test.fullTitle(),
        state,
        durationMs: test.duration,
        error: err ? String((err && err.stack) || err) : undefined,
      });
    runner.on('pass', record('passed'));
    runner.on('fail', record('failed'));
    runner.on('pending', record('pending'));
    return runner;
  };
}

// run() as @vscode/test-electron calls it: a promise-returning run(), or the older run(testsRoot, callback).
function callRun(run, suitesEntry) {
  if (run.length >= 2) {
    return new Promise((resolve, reject) =>
      run(path.dirname(suitesEntry), (err, failures) => {
        if (err) reject(err);
        else if (failures) reject(new Error(`${failures} tests failed.`));
        else resolve();
      }),
    );
  }
  return Promise.resolve(run());
}

module.exports = { activate, deactivate() {} };
