// The extension's manifest and bundle: settings match what the code reads and the engine's
// defaults, every menu points at a declared command, icons are what VS Code expects, and
// dist/extension.js is small and loads no AWS SDK code when activated.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import Module from 'node:module';
import path from 'node:path';
import { DEFAULT_KEY_PREFIX, DEFAULT_TIMEOUT_SECONDS, MAX_EXECUTION_TIMEOUT_SECONDS } from '../../src/core/defaults';
import { SETTING_KEYS } from '../../src/extension/settings';

const root = path.resolve(__dirname, '..', '..', '..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const contributes = pkg.contributes;
const declared = new Set<string>(contributes.commands.map((c: { command: string }) => c.command));

describe('package.json contributions', () => {
  test('settings are exactly the ones the extension reads, each with a default', () => {
    const properties = contributes.configuration.properties as Record<string, { default?: unknown }>;
    assert.deepEqual(Object.keys(properties).sort(), SETTING_KEYS.map((k) => `ec2Runner.${k}`).sort());
    for (const [key, schema] of Object.entries(properties)) assert.ok('default' in schema, `${key} has a default`);
  });

  test('the README lists every setting in its settings table, with its default', () => {
    const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
    const table = readme.slice(readme.indexOf('### Settings (`ec2Runner.*`'));
    const rows = new Map([...table.matchAll(/^\| `(\w+)` \| ([^|]+) \|/gm)].map((m) => [m[1], m[2].trim()]));
    for (const [key, schema] of Object.entries(
      contributes.configuration.properties as Record<string, { default: unknown }>,
    )) {
      const name = key.slice('ec2Runner.'.length);
      assert.ok(rows.has(name), `README's settings table has a row for ${key}`);
      const shown = rows.get(name)!.replace(/^`|`$/g, '');
      const expected =
        typeof schema.default === 'string'
          ? schema.default === ''
            ? '""'
            : schema.default
          : JSON.stringify(schema.default);
      assert.equal(shown, expected, `README shows the default of ${key}`);
    }
  });

  test('setting defaults agree with the engine (package.json is where the extension gets them)', () => {
    const p = contributes.configuration.properties;
    assert.equal(p['ec2Runner.keyPrefix'].default, DEFAULT_KEY_PREFIX);
    assert.equal(p['ec2Runner.timeoutSeconds'].default, DEFAULT_TIMEOUT_SECONDS);
    assert.equal(p['ec2Runner.timeoutSeconds'].maximum, MAX_EXECUTION_TIMEOUT_SECONDS);
    assert.equal(p['ec2Runner.feedback'].default, 'exitCodeAndData');
    for (const key of ['profile', 'region', 'endpointUrl', 'bucket'])
      assert.equal(p[`ec2Runner.${key}`].default, '', `${key} unset falls back to the AWS environment`);
  });

  test('every command is in the EC2 Runner category; menus and keybindings only use declared commands', () => {
    for (const c of contributes.commands) assert.equal(c.category, 'EC2 Runner', c.command);
    const used = [...Object.values(contributes.menus).flat(), ...contributes.keybindings] as Array<{ command: string }>;
    for (const entry of used) assert.ok(declared.has(entry.command), `${entry.command} is declared`);
  });

  test('item-only commands are hidden from the palette; context-dependent ones are conditional', () => {
    const palette = new Map<string, string>(
      contributes.menus.commandPalette.map((e: { command: string; when: string }) => [e.command, e.when]),
    );
    for (const id of [
      'ec2Runner.runActiveFileHere',
      'ec2Runner.runCommandHere',
      'ec2Runner.copyInstanceId',
      'ec2Runner.setDefaultTarget',
      'ec2Runner.rerunRun',
      'ec2Runner.showRunOutput',
    ]) {
      assert.equal(palette.get(id), 'false', `${id} hidden from the palette`);
    }
    assert.equal(palette.get('ec2Runner.cancelRun'), 'ec2Runner.running');
    for (const id of [
      'ec2Runner.runActiveFile',
      'ec2Runner.runCommand',
      'ec2Runner.selectTarget',
      'ec2Runner.selectProfileRegion',
      'ec2Runner.showOutput',
    ]) {
      assert.ok(!palette.has(id), `${id} is always in the palette`);
    }
  });

  test('Run Active File is in the editor context, editor title (Python, shell), explorer (.py, .sh), and on an instance', () => {
    const menu = (name: string) =>
      (contributes.menus[name] as Array<{ command: string; when: string }>).filter((e) =>
        e.command.startsWith('ec2Runner.runActiveFile'),
      );
    assert.match(menu('editor/context')[0].when, /editorLangId == python.*editorLangId == shellscript/);
    assert.match(menu('editor/title/run')[0].when, /resourceLangId == python.*resourceLangId == shellscript/);
    assert.equal(menu('editor/title').length, 0, 'not a second ▷ in the navigation group: the Run menu holds it');
    assert.match(menu('explorer/context')[0].when, /resourceExtname == \.py.*resourceExtname == \.sh/);
    assert.ok(
      menu('view/item/context').every((e) => /viewItem =~ \/\^instance\\\.online\//.test(e.when)),
      'only on Online instances',
    );
    const key = contributes.keybindings.find((k: { command: string }) => k.command === 'ec2Runner.runActiveFile');
    assert.equal(key.key, 'ctrl+k x');
    assert.equal(key.mac, 'cmd+k x');
    // AltGr is Ctrl+Alt on Windows/Linux: Ctrl+Alt+letter would take characters (€, ę) from European layouts.
    for (const k of contributes.keybindings as Array<{ key: string; command: string }>)
      assert.doesNotMatch(k.key, /ctrl\+alt\+(shift\+)?[a-z0-9]$/, k.command);
  });

  test('welcome views cover missing credentials, region, bucket and nothing found', () => {
    const states = contributes.viewsWelcome
      .filter((w: { view: string }) => w.view === 'ec2Runner.instances')
      .map((w: { when: string }) => /instancesState == (\w+)/.exec(w.when)?.[1]);
    for (const s of ['noCredentials', 'noRegion', 'noBucket', 'empty', 'filtered']) assert.ok(states.includes(s), s);
    for (const w of contributes.viewsWelcome) {
      for (const m of (w.contents as string).matchAll(/\(command:([\w.]+)/g))
        assert.ok(declared.has(m[1]) || m[1].startsWith('workbench.'), `${m[1]} is a command`);
    }
  });

  test('activation waits for the window to finish starting ("onStartupFinished", never "*")', () => {
    // After a reload, runs still going are re-attached and the status bar restored without the user
    // opening the view; onStartupFinished keeps that off the window's start-up path.
    // F5 on an ec2-runner configuration (even before start-up finished) activates the debug type.
    assert.deepEqual(pkg.activationEvents, [
      'onStartupFinished',
      'onDebugResolve:ec2-runner',
      'onDebugDynamicConfigurations:ec2-runner',
    ]);
  });

  test('icons: a 128x128 PNG and a 24x24 monochrome activity bar SVG', () => {
    const png = fs.readFileSync(path.join(root, pkg.icon));
    assert.equal(png.subarray(1, 4).toString(), 'PNG');
    assert.equal(png.readUInt32BE(16), 128);
    assert.equal(png.readUInt32BE(20), 128);
    const container = contributes.viewsContainers.activitybar[0];
    const svg = fs.readFileSync(path.join(root, container.icon), 'utf8');
    assert.match(svg, /width="24" height="24"/);
    assert.doesNotMatch(svg, /#[0-9a-f]{3,6}/i, 'monochrome: currentColor only');
  });
});

/** A stand-in for the `vscode` module: every property, call and `new` gives another stand-in. */
function fakeVscode(): Record<string, unknown> {
  const make = (): unknown => {
    const own: Record<string | symbol, unknown> = {};
    return new Proxy(function () {}, {
      get: (_target, prop) => {
        if (prop === 'then') return undefined; // not a thenable, so `await` returns it
        if (!(prop in own)) own[prop] = make();
        return own[prop];
      },
      set: (_target, prop, value) => {
        own[prop] = value;
        return true;
      },
      apply: () => make(),
      construct: () => make() as object,
    });
  };
  // The namespaces and classes the extension uses (a plain object, so the bundle's ESM interop copies them).
  const names = [
    'window',
    'workspace',
    'commands',
    'env',
    'Uri',
    'EventEmitter',
    'ThemeIcon',
    'ThemeColor',
    'TreeItem',
    'TreeItemCollapsibleState',
    'StatusBarAlignment',
    'ConfigurationTarget',
    'ProgressLocation',
    'Disposable',
    'debug',
    'extensions',
    'DebugAdapterServer',
  ];
  return {
    ...Object.fromEntries(names.map((n) => [n, make()])),
    ExtensionMode: { Production: 1, Development: 2, Test: 3 },
  };
}

describe('dist/extension.js', () => {
  const bundle = path.join(root, 'dist', 'extension.js');

  test('is small and contains no AWS SDK code, nor the engine-only TOML parser', () => {
    assert.ok(fs.existsSync(bundle), 'dist/extension.js exists (npm run build)');
    const size = fs.statSync(bundle).size;
    // A tripwire, not the goal (activation < 20 ms is measured by the bench): the SDK would add megabytes.
    assert.ok(size < 128 * 1024, `dist/extension.js is ${size} bytes (< 128 KB)`);
    const text = fs.readFileSync(bundle, 'utf8');
    assert.doesNotMatch(text, /@aws-sdk|@smithy|SSMClient/);
    assert.doesNotMatch(
      text,
      /smol-toml|Invalid TOML document/,
      'pyproject.toml is parsed in dist/engine.js, loaded on first use',
    );
  });

  const EXTENSION_MODE_TEST = 3;
  const EXTENSION_MODE_PRODUCTION = 1;
  type Activated = { engineLoaded(): boolean; statusBar(): { text: string; command: string; showCancel: boolean } };

  /**
   * activate() with a fake `vscode` and workspace state holding `history`; returns the test API and the modules
   * activate() loaded.
   */
  function activateWith(
    history: unknown[] | undefined,
    extensionMode = EXTENSION_MODE_TEST,
  ): { api: Activated; subscriptions: unknown[]; loadedDuringActivate: string[]; deactivate(): void } {
    const moduleWithLoad = Module as unknown as {
      _load: (request: string, parent: unknown, isMain: boolean) => unknown;
    };
    const originalLoad = moduleWithLoad._load;
    const vscode = fakeVscode();
    moduleWithLoad._load = function (request, parent, isMain) {
      return request === 'vscode' ? vscode : originalLoad.call(this, request, parent, isMain);
    };
    try {
      const before = new Set(Object.keys(require.cache));
      const extension = require(bundle) as { activate(context: unknown): Activated; deactivate(): Promise<void> };
      const memento = (initial: Record<string, unknown> = {}) => {
        const values = new Map<string, unknown>(Object.entries(initial));
        return {
          get: (k: string) => values.get(k),
          update: async (k: string, v: unknown) => void values.set(k, v),
          keys: () => [...values.keys()],
        };
      };
      const context = {
        subscriptions: [] as unknown[],
        workspaceState: memento(history ? { 'ec2Runner.runHistory': history } : {}),
        globalState: memento(),
        extensionPath: root,
        extensionMode,
      };
      const api = extension.activate(context);
      const loadedDuringActivate = Object.keys(require.cache).filter(
        (k) => !before.has(k) && /engine\.js$|sandbox\.js$|@aws-sdk|@smithy/.test(k),
      );
      return {
        api,
        subscriptions: context.subscriptions,
        loadedDuringActivate,
        deactivate: () => void extension.deactivate(),
      };
    } finally {
      moduleWithLoad._load = originalLoad;
      delete require.cache[bundle];
    }
  }

  test('activate() loads neither the engine bundle nor the SDK', () => {
    const { api, subscriptions, loadedDuringActivate, deactivate } = activateWith(undefined);
    assert.ok(api, "the test API under VS Code's extension tests");
    assert.equal(api.engineLoaded(), false);
    assert.ok(subscriptions.length > 10, 'disposables are handed to VS Code');
    assert.deepEqual(loadedDuringActivate, []);
    deactivate();
  });

  test('activate() hands out its test API only under test', () => {
    const previous = process.env.EC2_RUNNER_TEST_API;
    delete process.env.EC2_RUNNER_TEST_API;
    try {
      const production = activateWith(undefined, EXTENSION_MODE_PRODUCTION);
      assert.equal(production.api, undefined, 'no test API in production');
      production.deactivate();
      process.env.EC2_RUNNER_TEST_API = '1';
      const harness = activateWith(undefined, EXTENSION_MODE_PRODUCTION);
      assert.ok(harness.api, 'the code-server harness sets EC2_RUNNER_TEST_API=1');
      harness.deactivate();
    } finally {
      if (previous === undefined) delete process.env.EC2_RUNNER_TEST_API;
      else process.env.EC2_RUNNER_TEST_API = previous;
    }
  });

  test('after a reload, activate() restores the status bar from the history and leaves re-attaching (the SDK) for later', () => {
    const target = { instanceId: 'i-0123456789abcdef0', name: 'web-1' };
    const source = { kind: 'file', uri: 'file:///w/train.py', fileName: 'train.py', args: [] };
    const finished = {
      id: 'a',
      label: 'prep.py',
      source,
      targets: [target],
      state: 'finished',
      status: 'Success',
      exitCode: 0,
      startedAt: 1,
      endedAt: 2,
    };
    const { api: idle, deactivate: deactivateIdle } = activateWith([finished]);
    assert.deepEqual(
      { text: idle.statusBar().text, command: idle.statusBar().command },
      { text: '$(play) prep.py → web-1', command: 'ec2Runner.rerunLast' },
    );
    deactivateIdle();

    const running = {
      ...finished,
      id: 'b',
      label: 'train.py',
      state: 'running',
      status: 'InProgress',
      commandId: 'cmd-1',
      exitCode: undefined,
      endedAt: undefined,
    };
    const { api, loadedDuringActivate, deactivate } = activateWith([running, finished]);
    assert.equal(api.statusBar().text, '$(sync~spin) train.py → web-1');
    assert.equal(api.statusBar().showCancel, true);
    assert.equal(api.engineLoaded(), false, 're-attaching waits until activate() has returned');
    assert.deepEqual(loadedDuringActivate, []);
    deactivate();
  });
});
