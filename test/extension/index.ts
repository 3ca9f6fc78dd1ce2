// Entry of the extension-host suites, as @vscode/test-electron and the code-server host runner
// (test/e2e/host-runner) call it: run() loads every compiled suite next to this file
// (out/test/extension/suite/*.test.js) into mocha (TDD) and rejects when a test fails.
// The suites expect the sandbox's variables in the host's environment (AWS_ENDPOINT_URL,
// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION, EC2_RUNNER_BUCKET) and a workspace folder.
import fs from 'node:fs';
import path from 'node:path';
import Mocha from 'mocha';

export function run(): Promise<void> {
  // EC2_RUNNER_E2E_GREP runs only the tests whose title matches (a regular expression), e.g. while working on one
  // suite.
  const grep = process.env.EC2_RUNNER_E2E_GREP ? new RegExp(process.env.EC2_RUNNER_E2E_GREP) : undefined;
  const mocha = new Mocha({ ui: 'tdd', color: false, timeout: 90_000, slow: 10_000, grep });
  const suiteDir = path.join(__dirname, 'suite');
  for (const file of fs
    .readdirSync(suiteDir)
    .filter((f) => f.endsWith('.test.js'))
    .sort()) {
    mocha.addFile(path.join(suiteDir, file));
  }
  return new Promise((resolve, reject) => {
    mocha.run((failures) =>
      failures > 0 ? reject(new Error(`${failures} extension-host test(s) failed`)) : resolve(),
    );
  });
}
