// The "Get Started with EC2 Runner" walkthrough (package.json contributes.walkthroughs): its steps
// follow a newcomer's path, every button and link runs a command that exists, every completion event
// names a command, setting or context key the extension really has, and its pages ship in the VSIX.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import Module from 'node:module';
import path from 'node:path';

const root = path.resolve(__dirname, '..', '..', '..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const contributes = pkg.contributes;

interface Step {
  id: string;
  title: string;
  description: string;
  media: { markdown?: string; image?: string; svg?: string };
  completionEvents?: string[];
}

const commands = new Set<string>(contributes.commands.map((c: { command: string }) => c.command));
const settings = new Set(Object.keys(contributes.configuration.properties));
const views = new Set<string>(
  Object.values(contributes.views as Record<string, Array<{ id: string }>>)
    .flat()
    .map((v) => v.id),
);

/** The context keys the extension sets (`setContext`), with the values src/ gives each, when it names them. */
function contextKeys(): Map<string, Set<string> | undefined> {
  const dir = path.join(root, 'src', 'extension');
  const source = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.ts'))
    .map((f) => fs.readFileSync(path.join(dir, f), 'utf8'))
    .join('\n');
  const keys = new Map<string, Set<string> | undefined>();
  for (const [, key] of source.matchAll(/CONTEXT_KEY = '(ec2Runner\.\w+)'/g)) keys.set(key, undefined);
  for (const [, key] of source.matchAll(/'setContext', '(ec2Runner\.\w+)'/g)) keys.set(key, undefined);
  // ec2Runner.instancesState takes the InstancesState values.
  const states = /export type InstancesState =([^;]+);/.exec(
    fs.readFileSync(path.join(dir, 'instanceModel.ts'), 'utf8'),
  )![1];
  keys.set('ec2Runner.instancesState', new Set([...states.matchAll(/'(\w+)'/g)].map((m) => m[1])));
  return keys;
}

/** Why a `command:` link target is wrong, or undefined when it runs a real command with valid arguments. */
function commandLinkProblem(link: string): string | undefined {
  const [id, query] = link.split('?', 2);
  if (id.startsWith('ec2Runner.') && commands.has(id)) return undefined;
  if (id.endsWith('.focus') && views.has(id.slice(0, -'.focus'.length))) return undefined;
  if (id === 'workbench.action.openSettings') {
    const [key] = JSON.parse(decodeURIComponent(query ?? '[]')) as string[];
    return settings.has(key) ? undefined : `openSettings names ${key}, which is not a setting of package.json`;
  }
  return `${id} is not a command of package.json (nor a view's .focus, nor openSettings)`;
}

/** Why a completion event cannot fire, or undefined when it names something the extension has. */
function completionEventProblem(event: string, keys = contextKeys()): string | undefined {
  const colon = event.indexOf(':');
  const [kind, rest] = [event.slice(0, colon), event.slice(colon + 1)];
  switch (kind) {
    case 'onCommand':
      return commands.has(rest) ? undefined : `${rest} is not a command of package.json`;
    case 'onSettingChanged':
      return settings.has(rest) ? undefined : `${rest} is not a setting of package.json`;
    case 'onView':
      return views.has(rest) ? undefined : `${rest} is not a view of package.json`;
    case 'onContext': {
      for (const [, key] of rest.matchAll(/(ec2Runner\.\w+)/g))
        if (!keys.has(key)) return `context key ${key} is never set by the extension`;
      for (const [, key, value] of rest.matchAll(/(ec2Runner\.\w+) *[!=]= *(\w+)/g)) {
        const values = keys.get(key);
        if (values && !values.has(value)) return `${key} never takes the value ${value}`;
      }
      return undefined;
    }
    default:
      return `${kind} is not a completion event this walkthrough uses (onCommand, onSettingChanged, onView, onContext)`;
  }
}

const walkthroughs = (contributes.walkthroughs ?? []) as Array<{ id: string; title: string; steps: Step[] }>;
const steps = walkthroughs.flatMap((w) => w.steps);
const markdownOf = (step: Step) => fs.readFileSync(path.join(root, step.media.markdown!), 'utf8');
const commandLinks = (text: string) => [...text.matchAll(/\]\(command:([^)\s]+)\)/g)].map((m) => m[1]);

describe('the walkthrough', () => {
  test('one walkthrough: credentials → region → staging bucket → instance → first run', () => {
    assert.equal(walkthroughs.length, 1);
    assert.deepEqual(
      steps.map((s) => s.id),
      ['credentials', 'region', 'bucket', 'instance', 'firstRun'],
    );
    for (const step of steps) assert.ok(step.title && step.description, `${step.id} has a title and a description`);
  });

  test('the first step offers the sandbox to people without AWS', () => {
    assert.ok(commandLinks(steps[0].description).includes('ec2Runner.trySandbox'));
  });

  test('every step has a button, and every command: link (buttons and pages) runs a real command', () => {
    const problems: string[] = [];
    for (const step of steps) {
      assert.ok(commandLinks(step.description).length > 0, `${step.id} has at least one button`);
      for (const link of [...commandLinks(step.description), ...commandLinks(markdownOf(step))]) {
        const problem = commandLinkProblem(link);
        if (problem) problems.push(`${step.id}: ${problem}`);
      }
    }
    assert.deepEqual(problems, []);
  });

  test('every completion event names a command, setting, view or context key the extension has', () => {
    const keys = contextKeys();
    assert.ok(keys.has('ec2Runner.instancesState') && keys.has('ec2Runner.hasLastRun'), [...keys.keys()].join());
    const problems: string[] = [];
    for (const step of steps) {
      assert.ok((step.completionEvents ?? []).length > 0, `${step.id} completes on something`);
      for (const event of step.completionEvents ?? []) {
        const problem = completionEventProblem(event, keys);
        if (problem) problems.push(`${step.id}: ${problem}`);
      }
    }
    assert.deepEqual(problems, []);
  });

  test('the checks refuse what is wrong', () => {
    const keys = contextKeys();
    assert.match(commandLinkProblem('ec2Runner.noSuchCommand')!, /not a command/);
    assert.match(commandLinkProblem('workbench.action.openSettings?%5B%22ec2Runner.nope%22%5D')!, /not a setting/);
    assert.match(commandLinkProblem('workbench.action.quit')!, /not a command/);
    assert.match(completionEventProblem('onCommand:ec2Runner.nope', keys)!, /not a command/);
    assert.match(completionEventProblem('onSettingChanged:ec2Runner.nope', keys)!, /not a setting/);
    assert.match(completionEventProblem('onContext:ec2Runner.nope', keys)!, /never set/);
    assert.match(completionEventProblem('onContext:ec2Runner.instancesState == happy', keys)!, /never takes/);
    assert.match(completionEventProblem('onLink:https://example.com', keys)!, /not a completion event/);
  });

  test("each step's page exists, and the VSIX carries every page", async () => {
    const vsce = Module.createRequire(__filename)('@vscode/vsce') as {
      listFiles(options: { cwd: string; dependencies: boolean }): Promise<string[]>;
    };
    const packed = new Set(await vsce.listFiles({ cwd: root, dependencies: false }));
    for (const step of steps) {
      assert.ok(step.media.markdown, `${step.id} has a Markdown page`);
      assert.ok(fs.existsSync(path.join(root, step.media.markdown)), `${step.media.markdown} exists`);
      assert.ok(packed.has(step.media.markdown), `.vscodeignore lets ${step.media.markdown} into the VSIX`);
    }
  });
});
