// The `ec2-runner` debug type's configurations (launch.json), without VS Code: defaults, checks,
// and the attach configuration debugpy receives. `launch` runs `program` on an instance under
// debugpy; `attach` reaches a debugpy already listening on 127.0.0.1:remotePort of an instance.
// Both end as a DAP `attach` to the forwarded port (debugpy listens; VS Code connects).
import * as path from 'node:path';

export const DEBUG_TYPE = 'ec2-runner';

export interface PathMapping {
  localRoot: string;
  remoteRoot: string;
}

/** What a user may write in launch.json (and what the command builds). */
export interface Ec2DebugConfiguration {
  type: string;
  request: string;
  name: string;
  /** launch: the local Python file (default the active editor's). */
  program?: string;
  args?: string[];
  /** Instance id; default the workspace's default target, else a pick. */
  instance?: string;
  /** launch: the Python on the instance; default ec2Runner.interpreter, else python3. */
  python?: string;
  env?: Record<string, string>;
  /** launch: remote working directory (absolute); default a fresh one per run. */
  cwd?: string;
  /** launch: stage this local folder as a project (as "Run File with Its Project Folder"); program lies inside it. */
  projectRoot?: string;
  justMyCode?: boolean;
  /** attach: debugpy's port on the instance; launch: optional (default a random one). */
  remotePort?: number;
  /** The forwarded port here; default any free one. */
  localPort?: number;
  /** attach: how local files map to the instance's (launch computes this itself). */
  pathMappings?: PathMapping[];
  /** Set by the extension once the port is forwarded: where VS Code connects. */
  ec2RunnerPort?: number;
  /** Set by the extension for a launch: the run record that owns the debug session. */
  ec2RunnerRunId?: string;
  [key: string]: unknown;
}

export class DebugConfigError extends Error {}

const INSTANCE_ID = /^(i|mi)-[0-9a-f]{8,17}$/;

function optionalPort(value: unknown, what: string, allowZero: boolean): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < (allowZero ? 0 : 1) || value > 65535) {
    throw new DebugConfigError(
      `"${what}" must be a TCP port from ${allowZero ? 0 : 1} to 65535 in the ${DEBUG_TYPE} debug configuration.`,
    );
  }
  return value;
}

function stringList(value: unknown, what: string): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string'))
    throw new DebugConfigError(`"${what}" must be a list of strings in the ${DEBUG_TYPE} debug configuration.`);
  return value as string[];
}

/**
 * F5 without launch.json gives an empty configuration: debug the active Python file. Otherwise
 * checks the fields, fills defaults and says what is wrong in one sentence.
 */
export function resolveConfiguration(
  config: Partial<Ec2DebugConfiguration>,
  activeFile?: { path: string; languageId: string },
): Ec2DebugConfiguration {
  if (!config.type && !config.request && !config.name) {
    if (!activeFile || activeFile.languageId !== 'python')
      throw new DebugConfigError(
        'Open a Python file to debug it on EC2 (or add an "ec2-runner" configuration to launch.json).',
      );
    return {
      type: DEBUG_TYPE,
      request: 'launch',
      name: `Debug ${path.basename(activeFile.path)} on EC2`,
      program: activeFile.path,
      justMyCode: true,
    };
  }
  const request = config.request ?? 'launch';
  if (request !== 'launch' && request !== 'attach')
    throw new DebugConfigError(
      `Unknown request "${String(request)}": an ${DEBUG_TYPE} configuration is a "launch" or an "attach".`,
    );
  if (config.instance !== undefined && (typeof config.instance !== 'string' || !INSTANCE_ID.test(config.instance))) {
    throw new DebugConfigError(
      `"instance" must be an instance id such as i-0123456789abcdef0, got ${JSON.stringify(config.instance)}.`,
    );
  }
  const resolved: Ec2DebugConfiguration = {
    ...config,
    type: DEBUG_TYPE,
    request,
    name: config.name ?? 'Debug on EC2',
    justMyCode: config.justMyCode ?? true,
    args: stringList(config.args, 'args'),
    remotePort: optionalPort(config.remotePort, 'remotePort', false),
    localPort: optionalPort(config.localPort, 'localPort', true),
  };
  if (request === 'launch') {
    const program = config.program ?? activeFile?.path;
    if (typeof program !== 'string' || !program)
      throw new DebugConfigError('No "program": name the Python file to debug (e.g. "${file}") or open one.');
    if (!/\.py$/i.test(program))
      throw new DebugConfigError(`"program" ${program} is not a Python file: only Python runs under debugpy.`);
    if (config.cwd !== undefined && (typeof config.cwd !== 'string' || !config.cwd.startsWith('/')))
      throw new DebugConfigError('"cwd" must be an absolute path on the instance (e.g. /home/ec2-user).');
    if (config.projectRoot !== undefined) {
      if (typeof config.projectRoot !== 'string' || !path.isAbsolute(config.projectRoot))
        throw new DebugConfigError('"projectRoot" must be an absolute local folder (e.g. "${workspaceFolder}").');
      const relative = path.relative(config.projectRoot, program);
      if (!relative || relative.startsWith('..') || path.isAbsolute(relative))
        throw new DebugConfigError(`"program" ${program} is not inside "projectRoot" ${config.projectRoot}.`);
    }
    resolved.program = program;
  } else {
    if (resolved.remotePort === undefined)
      throw new DebugConfigError(
        'An "attach" needs "remotePort": the port debugpy listens on at 127.0.0.1 of the instance.',
      );
    const mappings = config.pathMappings;
    if (
      mappings !== undefined &&
      (!Array.isArray(mappings) ||
        mappings.some((m) => typeof m?.localRoot !== 'string' || typeof m?.remoteRoot !== 'string'))
    ) {
      throw new DebugConfigError('"pathMappings" must be a list of { "localRoot": …, "remoteRoot": … }.');
    }
  }
  return resolved;
}

/** What VS Code sends to debugpy: an attach with the mappings, to the port the extension forwarded. */
export function attachConfiguration(
  config: Ec2DebugConfiguration,
  localPort: number,
  pathMappings: PathMapping[] | undefined,
  runId?: string,
): Ec2DebugConfiguration {
  return {
    ...config,
    request: 'attach',
    ec2RunnerRequest: config.request,
    ec2RunnerPort: localPort,
    ec2RunnerRunId: runId,
    ...(pathMappings ? { pathMappings } : {}),
  };
}

/**
 * Decides, from what passed between VS Code and debugpy, whether the user stopped the session
 * (then a launched run is cancelled) or the program ended (the run ends by itself, exit code kept).
 */
export class SessionEndWatcher {
  private programEnded = false;
  private stopRequested = false;

  /** A message VS Code sends to debugpy. */
  toAdapter(message: { type?: string; command?: string }): void {
    if (
      message.type === 'request' &&
      (message.command === 'disconnect' || message.command === 'terminate') &&
      !this.programEnded
    )
      this.stopRequested = true;
  }

  /** A message debugpy sends to VS Code. */
  fromAdapter(message: { type?: string; event?: string }): void {
    if (
      message.type === 'event' &&
      (message.event === 'terminated' || message.event === 'exited') &&
      !this.stopRequested
    )
      this.programEnded = true;
  }

  get userStopped(): boolean {
    return this.stopRequested && !this.programEnded;
  }
}

/** The engine source and the local root of pathMappings for a launch: the file alone, or its project. */
export function launchSource(config: Ec2DebugConfiguration): {
  project?: { root: string; entry: string };
  localRoot: string;
} {
  const program = config.program!;
  if (!config.projectRoot) return { localRoot: path.dirname(program) };
  return {
    project: { root: config.projectRoot, entry: path.relative(config.projectRoot, program).split(path.sep).join('/') },
    localRoot: config.projectRoot,
  };
}
