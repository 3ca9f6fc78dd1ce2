// Command-line parsing with node:util parseArgs: one option table, per-command allowed sets,
// and everything after `--` kept verbatim (script arguments or the shell command).
import { parseArgs } from 'node:util';
import { UsageError } from './usage-error';

const OPTIONS = {
  profile: { type: 'string' },
  region: { type: 'string' },
  'endpoint-url': { type: 'string' },
  bucket: { type: 'string' },
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
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'V' },
} as const;

export type OptionName = keyof typeof OPTIONS;

const GLOBAL: OptionName[] = ['profile', 'region', 'endpoint-url', 'bucket', 'help'];
const TARGETING: OptionName[] = ['instance', 'tag', 'timeout', 'delivery-timeout', 'max-concurrency', 'max-errors', 'no-wait', 'json', 'cwd', 'env'];

/** Which options each command accepts besides the global ones. */
export const COMMAND_OPTIONS: Record<string, OptionName[]> = {
  instances: ['json', 'online'],
  run: [...TARGETING, 'interpreter', 'instance-role', 'entry', 'project', 'language', 'no-deps', 'venv-root', 'artifacts'],
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
    throw new UsageError(`${(error as Error).message.replace(/\.? ?To specify a positional argument.*$/s, '')}.`);
  }
  const [command, ...positionals] = parsed.positionals;
  const result: ParsedArgs = { command, positionals, rest, hasRest: dash >= 0, values: parsed.values as ParsedArgs['values'] };
  if (command && command in COMMAND_OPTIONS) {
    const allowed = new Set<string>([...GLOBAL, ...COMMAND_OPTIONS[command]]);
    for (const name of Object.keys(parsed.values)) {
      if (!allowed.has(name)) throw new UsageError(`Option --${name} does not apply to \`${command}\`; see \`ec2-runner ${command} --help\`.`);
    }
  }
  return result;
}

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
  if (!/^\d+$/.test(value.trim()) || Number(value) <= 0) throw new UsageError(`${what} "${value}" is not a positive whole number of seconds.`);
  return Number(value);
}
