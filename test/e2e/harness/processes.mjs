// Long-running helper processes (sandbox, code-server) each run in their own process group, so
// stopping one kills everything it started (code-server leaves its extension host, agent host and
// copilot runtime behind when only its own pid is killed). Every process we start carries
// E2E_RUN_MARKER in its environment; leftoverProcesses() finds any survivor by that marker, which
// also catches children that moved to another process group.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';

export const RUN_MARKER_VARIABLE = 'EC2_RUNNER_E2E_RUN';
export const runMarker = `${process.pid}-${randomUUID()}`;

const liveGroups = new Map(); // pgid -> name
const tempDirs = new Set();

/** A temp folder removed when this process exits, however it exits (short of SIGKILL). */
export function removeOnExit(dir) {
  tempDirs.add(dir);
  return () => {
    fs.rmSync(dir, { recursive: true, force: true });
    tempDirs.delete(dir);
  };
}

/** Starts `command` as the leader of a new process group; stdout and stderr go to `logFile`. */
export function startGroup(name, command, args, { env = process.env, cwd, logFile }) {
  const log = fs.openSync(logFile, 'a');
  const child = spawn(command, args, {
    cwd,
    env: { ...env, [RUN_MARKER_VARIABLE]: runMarker },
    detached: true,
    stdio: ['ignore', log, log],
  });
  fs.closeSync(log);
  if (child.pid === undefined) throw new Error(`${name} did not start (${command}); see ${logFile}`);
  liveGroups.set(child.pid, name);
  return child;
}

function groupExists(pgid) {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}

function signalGroup(pgid, signal) {
  try {
    process.kill(-pgid, signal);
  } catch (error) {
    if (error.code !== 'ESRCH') throw error;
  }
}

/** SIGTERM the whole group, then SIGKILL what is still there after `graceMs`. */
export async function stopGroup(pgid, graceMs = 3000) {
  signalGroup(pgid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (groupExists(pgid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  if (groupExists(pgid)) signalGroup(pgid, 'SIGKILL');
  const killDeadline = Date.now() + 2000;
  while (groupExists(pgid) && Date.now() < killDeadline) await new Promise((r) => setTimeout(r, 50));
  liveGroups.delete(pgid);
}

export async function stopAllGroups() {
  await Promise.all([...liveGroups.keys()].map((pgid) => stopGroup(pgid)));
}

/** Processes (other than this one) whose environment carries this run's marker. Linux /proc only. */
export function leftoverProcesses() {
  const needle = `${RUN_MARKER_VARIABLE}=${runMarker}`;
  const found = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const environ = fs.readFileSync(`/proc/${entry}/environ`, 'utf8');
      if (!environ.split('\0').includes(needle)) continue;
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue; // zombie awaiting reap
      const cmdline = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ').trim();
      found.push({ pid: Number(entry), cmdline: cmdline.slice(0, 200) });
    } catch {
      // The process ended while we looked, or is not ours to read.
    }
  }
  return found;
}

let handlersInstalled = false;

/**
 * Stops every group on normal exit, Ctrl-C, SIGTERM and (unless told not to) uncaught errors. On 'exit' only
 * synchronous work is possible, so it SIGKILLs the groups still registered.
 */
export function installCleanupHandlers({ onUncaughtErrors = true } = {}) {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', () => {
    for (const pgid of liveGroups.keys()) signalGroup(pgid, 'SIGKILL');
    for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
  });
  const stopThenExit = (code, reason) => {
    if (reason) console.error(reason);
    stopAllGroups().finally(() => process.exit(code));
  };
  process.once('SIGINT', () => stopThenExit(130, '[e2e] interrupted; stopping sandbox and code-server'));
  process.once('SIGTERM', () => stopThenExit(143));
  // node:test attributes uncaught errors to tests itself; test files pass onUncaughtErrors: false.
  if (!onUncaughtErrors) return;
  process.once('uncaughtException', (error) => stopThenExit(1, error));
  process.once('unhandledRejection', (error) => stopThenExit(1, error));
}
