// Child process: the extension's output path without VS Code, so its peak memory is the client's
// alone. One run through the engine bundle; every chunk goes through the extension's own formatter,
// output-channel budget and bounded transcripts into a sink that only counts what it would show.
// Usage: node bigOutputClient.js <settings JSON> <instance id> <command>
import { ChannelBudget, fullOutputLines } from '../src/extension/channelBudget';
import { LiveOutputFormatter } from '../src/extension/format';
import { RunTranscripts } from '../src/extension/runTranscripts';
import { reportJson } from './childJson';
import { loadEngine } from './engineModule';

export interface BigOutputClientReport {
  status: string;
  /** The file the engine saved the whole stdout to (undefined when it fitted in memory). */
  stdoutFile?: string;
  /** Characters the output channel would have shown (script output and the closing lines). */
  channelChars: number;
  maxRssMb: number;
}

async function main(): Promise<void> {
  const [settingsJson, instanceId, command] = process.argv.slice(2);
  const engine = loadEngine().createEngine(JSON.parse(settingsJson));
  const handle = await engine.start({
    source: { kind: 'command', command },
    target: { kind: 'instances', instanceIds: [instanceId] },
    timeoutSeconds: 3600,
  });
  const formatter = new LiveOutputFormatter();
  const budget = new ChannelBudget();
  const transcripts = new RunTranscripts();
  let channelChars = 0;
  const show = (text: string) => {
    channelChars += text.length;
    transcripts.append('run', text);
  };
  // As runController.ts writes the output channel: past the budget nothing is formatted or shown.
  handle.onOutput((chunk) => {
    if (!budget.isTrimmed('run')) show(budget.take('run', formatter.push(chunk)));
  });
  const result = await handle.wait();
  const rest = formatter.finish();
  if (!budget.isTrimmed('run')) show(rest);
  show(fullOutputLines(result));
  engine.dispose();
  const only = result.invocations[0];
  reportJson({
    status: only?.status ?? 'none',
    stdoutFile: only?.stdoutFile,
    channelChars,
    maxRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
  } satisfies BigOutputClientReport);
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
