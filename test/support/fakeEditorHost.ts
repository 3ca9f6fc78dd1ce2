// A stand-in for the `vscode` module in unit tests of the extension's VS Code side: open documents,
// the active editor and the file system are plain data the test sets. Importing this module
// installs it (import it before any src/extension module that imports `vscode`). Members the test
// does not model are inert stand-ins, so every extension module still loads.
import Module from 'node:module';

export interface FakeDocument {
  uri: FakeUri;
  languageId: string;
  isUntitled: boolean;
  isDirty: boolean;
  getText(): string;
  save(): Promise<boolean>;
}

export class FakeUri {
  private constructor(
    readonly scheme: string,
    readonly path: string,
  ) {}
  static file(path: string): FakeUri {
    return new FakeUri('file', path);
  }
  static parse(text: string): FakeUri {
    const match = /^([a-z][\w+.-]*):(?:\/\/)?(.*)$/i.exec(text);
    return match ? new FakeUri(match[1], match[2]) : new FakeUri('file', text);
  }
  get fsPath(): string {
    return this.path;
  }
  toString(): string {
    return `${this.scheme}://${this.path}`;
  }
}

/** What the test controls: the files on "disk", the open documents and which one is active. */
export const editorHost = {
  files: new Map<string, string>(),
  documents: [] as FakeDocument[],
  active: undefined as FakeDocument | undefined,
  messages: [] as string[],
  /** Opens `path` (text from `files`) and makes it the active editor. */
  open(path: string, languageId = path.endsWith('.py') ? 'python' : 'shellscript'): FakeDocument {
    let document = this.documents.find((d) => d.uri.path === path);
    if (!document) {
      document = {
        uri: FakeUri.file(path),
        languageId,
        isUntitled: false,
        isDirty: false,
        getText: () => this.files.get(path) ?? '',
        save: async () => true,
      };
      this.documents.push(document);
    }
    this.active = document;
    return document;
  },
  close(path: string): void {
    this.documents = this.documents.filter((d) => d.uri.path !== path);
    if (this.active?.uri.path === path) this.active = undefined;
  },
  reset(): void {
    this.files.clear();
    this.documents = [];
    this.active = undefined;
    this.messages = [];
  },
};

function inert(): unknown {
  const own: Record<string | symbol, unknown> = {};
  return new Proxy(function () {}, {
    get: (_target, prop) => {
      if (prop === 'then') return undefined;
      if (!(prop in own)) own[prop] = inert();
      return own[prop];
    },
    set: (_target, prop, value) => ((own[prop] = value), true),
    apply: () => inert(),
    construct: () => inert() as object,
  });
}

function withFallback<T extends object>(known: T): T {
  const extra: Record<string | symbol, unknown> = {};
  return new Proxy(known, {
    get: (target, key, receiver) => (key in target ? Reflect.get(target, key, receiver) : (extra[key] ??= inert())),
  });
}

const vscode = withFallback({
  Uri: FakeUri,
  window: withFallback({
    get activeTextEditor() {
      return editorHost.active ? { document: editorHost.active } : undefined;
    },
    showErrorMessage: async (message: string) => void editorHost.messages.push(message),
    showInformationMessage: async (message: string) => void editorHost.messages.push(message),
    showWarningMessage: async (message: string) => void editorHost.messages.push(message),
  }),
  workspace: withFallback({
    get textDocuments() {
      return editorHost.documents;
    },
    fs: {
      readFile: async (uri: FakeUri) => {
        const text = editorHost.files.get(uri.path);
        if (text === undefined) throw new Error(`EntryNotFound (FileSystemError): ${uri.toString()}`);
        return new TextEncoder().encode(text);
      },
    },
  }),
});

const loader = Module as unknown as { _load: (request: string, parent: unknown, isMain: boolean) => unknown };
const originalLoad = loader._load;
loader._load = function (request, parent, isMain) {
  return request === 'vscode' ? vscode : originalLoad.call(this, request, parent, isMain);
};
