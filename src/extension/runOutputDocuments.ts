// Read-only documents showing one run's output (the Runs view's "reopen output").
import * as vscode from 'vscode';
import type { EngineProvider } from './engineProvider';
import { transcriptFromResult } from './format';
import type { RunHistory, RunRecord } from './history';
import type { RunTranscripts } from './runTranscripts';

export const RUN_OUTPUT_SCHEME = 'ec2-runner-run';

/** Read-only documents with one run's output: what this window printed (kept current), else rebuilt from SSM/S3. */
export class RunOutputDocuments implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.emitter.event;
  private readonly pending = new Map<string, NodeJS.Timeout>();
  private readonly subscription: { dispose(): void };

  constructor(
    private readonly history: RunHistory,
    private readonly transcripts: RunTranscripts,
    private readonly engines: EngineProvider,
  ) {
    this.subscription = transcripts.onDidAppend((id) => this.changed(id));
  }

  uriFor(record: RunRecord): vscode.Uri {
    const name = record.label.replace(/[^\w.-]+/g, '_').slice(0, 60) || 'run';
    return vscode.Uri.from({ scheme: RUN_OUTPUT_SCHEME, path: `/${name}.log`, query: record.id });
  }

  /** A run printed more: refresh its document if one is open (at most every 300 ms). */
  private changed(id: string): void {
    if (this.pending.has(id)) return;
    const open = vscode.workspace.textDocuments.find((d) => d.uri.scheme === RUN_OUTPUT_SCHEME && d.uri.query === id);
    if (!open) return;
    this.pending.set(
      id,
      setTimeout(() => {
        this.pending.delete(id);
        this.emitter.fire(open.uri);
      }, 300),
    );
  }

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const record = this.history.get(uri.query);
    if (!record) return 'This run is no longer in the history.';
    // Runs this window no longer holds (older ones, or another window's) are rebuilt from SSM/S3.
    const printed = this.transcripts.get(record.id);
    if (printed) return printed;
    if (!record.commandId)
      return `${record.label}: the command was never sent${record.reason ? ` (${record.reason})` : ''}.`;
    try {
      const result = await this.engines.get().status(record.commandId);
      return transcriptFromResult(record.label, record.targets, result, true);
    } catch (error) {
      return `Could not fetch the output of command ${record.commandId}: ${(error as Error).message}`;
    }
  }

  dispose(): void {
    this.subscription.dispose();
    for (const timer of this.pending.values()) clearTimeout(timer);
    this.emitter.dispose();
  }
}
