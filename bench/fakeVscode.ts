// A minimal stand-in for the `vscode` module, enough for the extension's activate() to run in a
// plain Node process so that its cost can be timed without an editor. Known parts behave like
// VS Code's (events, configuration defaults, enums); anything else is an inert stub that can be
// called, constructed and chained, and whose use is recorded so the report can name it.

type Stub = Record<PropertyKey, unknown> & ((...args: unknown[]) => unknown);

export function inertStub(path: string, touched: Set<string>): Stub {
  const target = function () {} as unknown as Stub;
  return new Proxy(target, {
    get(_t, key) {
      if (key === 'then') return undefined; // awaiting a stub must not hang
      if (key === Symbol.iterator) return function* () {};
      if (key === Symbol.toPrimitive) return () => '';
      if (key === 'dispose') return () => undefined;
      if (typeof key === 'symbol') return undefined;
      touched.add(`${path}.${key}`);
      return inertStub(`${path}.${key}`, touched);
    },
    apply: () => inertStub(`${path}()`, touched),
    construct: () => inertStub(`new ${path}`, touched) as object,
  });
}

/** Wraps a namespace so that members we did not model still work (as inert stubs). */
function withFallback<T extends object>(name: string, known: T, touched: Set<string>): T {
  return new Proxy(known, {
    get(target, key, receiver) {
      if (key in target || typeof key === 'symbol') return Reflect.get(target, key, receiver);
      touched.add(`${name}.${String(key)}`);
      return inertStub(`${name}.${String(key)}`, touched);
    },
  });
}

class Disposable {
  static from(...items: Array<{ dispose(): unknown }>): Disposable {
    return new Disposable(() => items.forEach((i) => i.dispose()));
  }
  constructor(private readonly onDispose: () => unknown) {}
  dispose(): void {
    this.onDispose();
  }
}

class EventEmitter<T> {
  private readonly listeners = new Set<(value: T) => unknown>();
  readonly event = (listener: (value: T) => unknown) => {
    this.listeners.add(listener);
    return new Disposable(() => this.listeners.delete(listener));
  };
  fire(value: T): void {
    for (const l of [...this.listeners]) l(value);
  }
  dispose(): void {
    this.listeners.clear();
  }
}

const noEvent = () => new Disposable(() => undefined);

function uri(path: string) {
  return { scheme: 'file', path, fsPath: path, toString: () => `file://${path}`, with: () => uri(path) };
}

class TreeItem {
  constructor(
    public label: unknown,
    public collapsibleState?: number,
  ) {}
}

class ThemeIcon {
  static readonly File = new ThemeIcon('file');
  static readonly Folder = new ThemeIcon('folder');
  constructor(
    readonly id: string,
    readonly color?: unknown,
  ) {}
}

class ThemeColor {
  constructor(readonly id: string) {}
}

class MarkdownString {
  constructor(public value = '') {}
  appendMarkdown(text: string) {
    this.value += text;
    return this;
  }
  appendText(text: string) {
    this.value += text;
    return this;
  }
}

class CancellationTokenSource {
  readonly token = { isCancellationRequested: false, onCancellationRequested: noEvent };
  cancel() {
    this.token.isCancellationRequested = true;
  }
  dispose() {}
}

export function fakeVscodeModule(touched: Set<string>): Record<string, unknown> {
  const configuration = () => ({
    get: (_key: string, fallback?: unknown) => fallback,
    has: () => false,
    inspect: () => undefined,
    update: async () => undefined,
  });
  const outputChannel = (name: string) =>
    withFallback(
      'OutputChannel',
      {
        name,
        append() {},
        appendLine() {},
        replace() {},
        clear() {},
        show() {},
        hide() {},
        dispose() {},
        info() {},
        warn() {},
        error() {},
        debug() {},
        trace() {},
        logLevel: 2,
        onDidChangeLogLevel: noEvent,
      },
      touched,
    );
  const statusBarItem = () =>
    withFallback(
      'StatusBarItem',
      { text: '', tooltip: '', command: undefined, show() {}, hide() {}, dispose() {} },
      touched,
    );
  const treeView = () =>
    withFallback(
      'TreeView',
      {
        visible: true,
        onDidChangeVisibility: noEvent,
        onDidChangeSelection: noEvent,
        onDidExpandElement: noEvent,
        onDidCollapseElement: noEvent,
        reveal: async () => undefined,
        dispose() {},
      },
      touched,
    );
  const window = withFallback(
    'window',
    {
      createOutputChannel: outputChannel,
      createStatusBarItem: statusBarItem,
      createTreeView: treeView,
      registerTreeDataProvider: noEvent,
      registerWebviewViewProvider: noEvent,
      registerUriHandler: noEvent,
      onDidChangeActiveTextEditor: noEvent,
      onDidChangeWindowState: noEvent,
      onDidCloseTerminal: noEvent,
      activeTextEditor: undefined,
      visibleTextEditors: [],
      state: { focused: true },
      showInformationMessage: async () => undefined,
      showWarningMessage: async () => undefined,
      showErrorMessage: async () => undefined,
    },
    touched,
  );
  const commands = withFallback(
    'commands',
    {
      registerCommand: noEvent,
      registerTextEditorCommand: noEvent,
      executeCommand: async () => undefined,
      getCommands: async () => [],
    },
    touched,
  );
  const workspace = withFallback(
    'workspace',
    {
      getConfiguration: configuration,
      onDidChangeConfiguration: noEvent,
      onDidSaveTextDocument: noEvent,
      onDidOpenTextDocument: noEvent,
      onDidCloseTextDocument: noEvent,
      onDidChangeTextDocument: noEvent,
      onDidChangeWorkspaceFolders: noEvent,
      onDidGrantWorkspaceTrust: noEvent,
      registerTextDocumentContentProvider: noEvent,
      registerFileSystemProvider: noEvent,
      workspaceFolders: undefined,
      isTrusted: true,
      textDocuments: [],
    },
    touched,
  );
  return withFallback(
    'vscode',
    {
      __esModule: undefined,
      version: '1.90.0',
      Disposable,
      EventEmitter,
      TreeItem,
      ThemeIcon,
      ThemeColor,
      MarkdownString,
      CancellationTokenSource,
      Uri: {
        file: uri,
        parse: (text: string) => uri(text),
        joinPath: (base: { path: string }, ...parts: string[]) => uri([base.path, ...parts].join('/')),
      },
      StatusBarAlignment: { Left: 1, Right: 2 },
      TreeItemCollapsibleState: { None: 0, Collapsed: 1, Expanded: 2 },
      ProgressLocation: { SourceControl: 1, Window: 10, Notification: 15 },
      ConfigurationTarget: { Global: 1, Workspace: 2, WorkspaceFolder: 3 },
      ViewColumn: { Active: -1, Beside: -2, One: 1, Two: 2 },
      ExtensionMode: { Production: 1, Development: 2, Test: 3 },
      LogLevel: { Off: 0, Trace: 1, Debug: 2, Info: 3, Warning: 4, Error: 5 },
      env: withFallback(
        'env',
        {
          appName: 'Visual Studio Code',
          machineId: 'bench',
          sessionId: 'bench',
          language: 'en',
          uiKind: 1,
          remoteName: undefined,
          clipboard: { writeText: async () => undefined, readText: async () => '' },
          openExternal: async () => true,
        },
        touched,
      ),
      l10n: { t: (message: string) => message },
      window,
      commands,
      workspace,
      extensions: withFallback('extensions', { getExtension: () => undefined, all: [], onDidChange: noEvent }, touched),
      languages: withFallback('languages', {}, touched),
      tasks: withFallback('tasks', {}, touched),
      debug: withFallback('debug', {}, touched),
    },
    touched,
  );
}

function memento() {
  const values = new Map<string, unknown>();
  return {
    get: (key: string, fallback?: unknown) => (values.has(key) ? values.get(key) : fallback),
    update: async (key: string, value: unknown) => void values.set(key, value),
    keys: () => [...values.keys()],
    setKeysForSync: () => undefined,
  };
}

export function fakeExtensionContext(
  extensionPath: string,
  storagePath: string,
  touched: Set<string>,
): Record<string, unknown> {
  return withFallback(
    'context',
    {
      subscriptions: [] as Array<{ dispose(): unknown }>,
      extensionPath,
      extensionUri: uri(extensionPath),
      storageUri: uri(storagePath),
      globalStorageUri: uri(storagePath),
      logUri: uri(storagePath),
      storagePath,
      globalStoragePath: storagePath,
      logPath: storagePath,
      extensionMode: 1,
      globalState: memento(),
      workspaceState: memento(),
      secrets: {
        get: async () => undefined,
        store: async () => undefined,
        delete: async () => undefined,
        onDidChange: noEvent,
      },
      environmentVariableCollection: inertStub('context.environmentVariableCollection', touched),
      asAbsolutePath: (relative: string) => `${extensionPath}/${relative}`,
    },
    touched,
  );
}
