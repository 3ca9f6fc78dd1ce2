// Checks a RunRequest and fills in defaults, so bad input fails before anything is sent.
import { closeSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { RunnerError, type RunRequest, type RunTarget } from './api';
import {
  DEFAULT_DELIVERY_TIMEOUT_SECONDS,
  DEFAULT_TIMEOUT_SECONDS,
  MAX_EXECUTION_TIMEOUT_SECONDS,
  MAX_INSTANCE_IDS,
  MIN_DELIVERY_TIMEOUT_SECONDS,
} from './defaults';
import { INSTANCE_ID_PATTERN, MAX_DELIVERY_TIMEOUT_SECONDS, MAX_TAG_TARGETS } from './awsLimits';
import { interpreterFor, unrunnableFileError } from './languages';
import { resolveSource, type StagedSource } from './sources';
import { checkFileName } from './staging';

export interface NormalizedRequest extends RunRequest {
  /** Never a selection: that is staged as a file. */
  source: StagedSource;
  timeoutSeconds: number;
  deliveryTimeoutSeconds: number;
}

/**
 * Interpreter by extension (python3 for .py, bash for .sh), else the file's `#!` line; a file neither names is refused.
 */
export function defaultInterpreter(fileName: string, head?: Uint8Array | string): string {
  const interpreter = interpreterFor(fileName, head);
  if (!interpreter) throw unrunnableFileError(fileName);
  return interpreter;
}

/** The first bytes of a project's entry file (for its `#!` line), when it can be read. */
function entryHead(root: string, entry: string): Uint8Array | undefined {
  try {
    const fd = openSync(join(root, entry), 'r');
    try {
      const buffer = Buffer.alloc(512);
      return buffer.subarray(0, readSync(fd, buffer, 0, buffer.length, 0));
    } finally {
      closeSync(fd);
    }
  } catch {
    return undefined;
  }
}

/** A bad request; `fix` names the advice a front end words itself (src/cli/advice.ts, src/extension/advice.ts). */
function invalid(problem: string, advice?: string, fix?: string, data: Record<string, string | number> = {}): never {
  throw new RunnerError(problem, 'InvalidRequest', { advice, data: { ...data, fix } });
}

function checkTarget(target: RunTarget): void {
  if (target.kind === 'instances') {
    if (target.instanceIds.length === 0)
      invalid('No target instance', 'give an instance id or a tag KEY=VALUE.', 'giveTarget');
    if (target.instanceIds.length > MAX_INSTANCE_IDS) {
      const count = target.instanceIds.length;
      invalid(
        `Too many instances (${count}): SSM accepts at most ${MAX_INSTANCE_IDS} ids per command`,
        'use tag targets for fleets.',
        'useTags',
        { count },
      );
    }
    const bad = target.instanceIds.find((id) => !INSTANCE_ID_PATTERN.test(id));
    if (bad)
      invalid(
        `"${bad}" is not an instance id (expected i-0123456789abcdef0 or mi-...)`,
        'pick one SSM manages.',
        'listInstances',
        { instanceId: bad },
      );
    if (new Set(target.instanceIds).size !== target.instanceIds.length)
      invalid('The same instance id is given twice: give each instance once.');
  } else {
    if (target.tags.length === 0) invalid('No target tag', 'give a tag KEY=VALUE or an instance id.', 'giveTag');
    if (target.tags.length > MAX_TAG_TARGETS)
      invalid(`Too many tag targets (${target.tags.length}): SSM accepts at most ${MAX_TAG_TARGETS}.`);
    const bad = target.tags.find((t) => !t.key || !t.value);
    if (bad)
      invalid(
        `Tag target "${bad.key}=${bad.value}" needs both a key and a value`,
        'give it as KEY=VALUE.',
        'tagFormat',
      );
  }
}

function checkSeconds(value: number | undefined, what: string, min: number, max: number): void {
  if (value === undefined) return;
  if (!Number.isInteger(value) || value < min || value > max)
    invalid(`${what} must be a whole number of seconds from ${min} to ${max}, got ${value}.`);
}

export function normalizeRequest(request: RunRequest): NormalizedRequest {
  checkTarget(request.target);
  checkSeconds(request.timeoutSeconds, 'The timeout', 1, MAX_EXECUTION_TIMEOUT_SECONDS);
  checkSeconds(
    request.deliveryTimeoutSeconds,
    'The delivery timeout',
    MIN_DELIVERY_TIMEOUT_SECONDS,
    MAX_DELIVERY_TIMEOUT_SECONDS,
  );
  const source = resolveSource(request.source);
  if (source.kind === 'command') {
    if (!source.command.trim()) invalid('The command is empty: give a shell command after `--`.');
  } else if (source.kind === 'file') {
    checkFileName(source.fileName);
  }
  if (request.workingDirectory !== undefined && !request.workingDirectory.startsWith('/')) {
    invalid(
      `The working directory "${request.workingDirectory}" must be an absolute path on the instance (e.g. ` +
        `/home/ec2-user).`,
    );
  }
  return {
    ...request,
    source:
      source.kind === 'command'
        ? source
        : {
            ...source,
            interpreter:
              source.interpreter?.trim() ||
              (source.kind === 'file'
                ? defaultInterpreter(source.fileName, source.content)
                : defaultInterpreter(source.entry, entryHead(source.root, source.entry))),
            args: source.args ?? [],
          },
    timeoutSeconds: request.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS,
    deliveryTimeoutSeconds: request.deliveryTimeoutSeconds ?? DEFAULT_DELIVERY_TIMEOUT_SECONDS,
  };
}
