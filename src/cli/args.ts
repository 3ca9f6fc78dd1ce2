// Command-line parsing with node:util parseArgs: one option table, per-command allowed sets,
// and everything after `--` kept verbatim (script arguments or the shell command).
import { parseArgs } from 'node:util';
import { UsageError } from './usageError';

const OPTIONS = {
  profile: { type: 'string' },
  region: { type: 'string' },
  'endpoint-url': { type: 'string' },
  bucket: { type: 'string' },
  'kms-key-id': { type: 'string' },
  instance: { type: 'string', multiple: true, short: 'i' },
  tag: { type: 'string', multiple: true, short: 't' },
  interpreter: { type: 'string' },
  cwd: { type: 'string' },
  env: { type: 'string', multiple: true, short: 'e' },
  timeout: { type: 'string' },
  'delivery-timeout': { type: 'string' },
  'max-concurrency': { type: 'string' },
  'max-errors': { type: 'string' },
  'instance-role': { type: 'boolean' },
  entry: { type: 'string' },
  project: { type: 'string' },
  language: { type: 'string' },
  'no-deps': { type: 'boolean' },
  'venv-root': { type: 'string' },
  artifacts: { type: 'string' },
  'no-wait': { type: 'boolean' },
  json: { type: 'boolean' },
  online: { type: 'boolean' },
  interactive: { type: 'boolean' },
  'print-aws-cli': { type: 'boolean' },
  port: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'V' },
} as const;

export type OptionName = keyof typeof OPTIONS;

const GLOBAL: OptionName[] = ['profile', 'region', 'endpoint-url', 'bucket', 'kms-key-id', 'help'];
const TARGETING: OptionName[] = [
  'instance',
  'tag',
  'timeout',
  'delivery-timeout',
  'max-concurrency',
  'max-errors',
  'no-wait',
  'json',
  'cwd',
  'env',
  'print-aws-cli',
];

/** Which options each command accepts besides the global ones. */
export const COMMAND_OPTIONS: Record<string, OptionName[]> = {
  instances: ['json', 'online'],
  run: [
    ...TARGETING,
    'interpreter',
    'instance-role',
    'entry',
    'project',
    'language',
    'no-deps',
    'venv-root',
    'artifacts',
    'interactive',
  ],
  forward: ['instance', 'port'],
  exec: TARGETING,
  status: ['json'],
  attach: ['json'],
  cancel: [],
  bucket: [],
  demo: [],
};

export interface ParsedArgs {
  command?: string;
  positionals: string[];
  /** Everything after the first `--`, verbatim. */
  rest: string[];
  /** True when a `--` was given (even with nothing after it). */
  hasRest: boolean;
  values: {
    profile?: string;
    region?: string;
    'endpoint-url'?: string;
    bucket?: string;
    'kms-key-id'?: string;
    instance?: string[];
    tag?: string[];
    interpreter?: string;
    cwd?: string;
    env?: string[];
    timeout?: string;
    'delivery-timeout'?: string;
    'max-concurrency'?: string;
    'max-errors'?: string;
    'instance-role'?: boolean;
    entry?: string;
    project?: string;
    language?: string;
    'no-deps'?: boolean;
    'venv-root'?: string;
    artifacts?: string;
    'no-wait'?: boolean;
    json?: boolean;
    online?: boolean;
    interactive?: boolean;
    'print-aws-cli'?: boolean;
    port?: string;
    help?: boolean;
    version?: boolean;
  };
}

export function parseCommandLine(argv: string[]): ParsedArgs {
  const dash = argv.indexOf('--');
  const head = dash >= 0 ? argv.slice(0, dash) : argv;
  const rest = dash >= 0 ? argv.slice(dash + 1) : [];
  let parsed;
  try {
    parsed = parseArgs({ args: head, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(explainParseError(error as Error, head));
  }
  const [command, ...positionals] = parsed.positionals;
  const result: ParsedArgs = {
    command,
    positionals,
    rest,
    hasRest: dash >= 0,
    values: parsed.values as ParsedArgs['values'],
  };
  if (command && command in COMMAND_OPTIONS) {
    const allowed = new Set<string>([...GLOBAL, ...COMMAND_OPTIONS[command]]);
    for (const name of Object.keys(parsed.values)) {
      if (!allowed.has(name))
        throw new UsageError(
          `Option --${name} does not apply to \`${command}\`; see \`ec2-runner ${command} --help\`.`,
        );
    }
  }
  return result;
}

/** Options can be mistyped; a close known name is suggested (edit distance up to 2). */
export function closestOption(typed: string): string | undefined {
  const name = typed.replace(/^-+/, '').split('=')[0];
  let best: { option: string; distance: number } | undefined;
  for (const option of Object.keys(OPTIONS)) {
    const distance = editDistance(name, option);
    if (distance <= 2 && distance < name.length && (!best || distance < best.distance)) best = { option, distance };
  }
  return best && `--${best.option}`;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++)
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = current;
  }
  return previous[b.length];
}

/** node:util's message, made actionable: a close option name, or where script arguments go. */
function explainParseError(error: Error, argv: string[]): string {
  const base = error.message.replace(/\.? ?To specify a positional argument.*$/s, '');
  const unknown = /Unknown option '([^']+)'/.exec(base)?.[1];
  if (!unknown) return `${base}.`;
  const at = argv.indexOf(unknown);
  const firstPositional = argv.findIndex(
    (word, index) => index > 0 && !word.startsWith('-') && !OPTION_TAKES_VALUE.has(argv[index - 1]),
  );
  if (argv[0] === 'run' && firstPositional >= 0 && at > firstPositional && !closestOption(unknown)) {
    return (
      `Unknown option '${unknown}' after FILE: script arguments go after --, e.g. ec2-runner run ` +
      `${argv[firstPositional]} -i ID -- ${unknown}`
    );
  }
  const suggestion = closestOption(unknown);
  if (argv[0] === 'exec' && !suggestion)
    return `Unknown option '${unknown}': put the whole command after --, e.g. ec2-runner exec -i ID -- ls -la`;
  return suggestion
    ? `Unknown option '${unknown}': did you mean ${suggestion}?`
    : `Unknown option '${unknown}'; see \`ec2-runner --help\`.`;
}

/** The spellings of options that take a value (so the value is not mistaken for FILE). */
const OPTION_TAKES_VALUE = new Set(
  Object.entries(OPTIONS).flatMap(([name, option]) =>
    option.type === 'string' ? [`--${name}`, ...('short' in option ? [`-${option.short}`] : [])] : [],
  ),
);

/** KEY=VALUE pairs (--tag, --env). */
export function parsePairs(values: string[] | undefined, what: string): Array<{ key: string; value: string }> {
  return (values ?? []).map((pair) => {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`${what} "${pair}" is not KEY=VALUE.`);
    return { key: pair.slice(0, eq), value: pair.slice(eq + 1) };
  });
}

export function parseSeconds(value: string | undefined, what: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value.trim()) || Number(value) <= 0)
    throw new UsageError(`${what} "${value}" is not a positive whole number of seconds.`);
  return Number(value);
}
