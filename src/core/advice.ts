// Front ends word their own advice for a RunnerError: the CLI names flags and commands, the extension
// settings and buttons. The engine's error carries the problem, neutral advice, a code and data; this
// puts a front end's advice in place of the neutral one. Errors are recognised by shape, not
// instanceof: the extension loads the engine as a separate bundle.
import { joinAdvice, type RunnerErrorData } from './api';

/** What an instance SSM does not know needs, in every front end's advice (UnknownInstance). */
export const AGENT_CHECK = 'that the instance runs the SSM agent with an instance profile that allows SSM';

/** Advice by `data.fix` (when a code has several situations), else by code; undefined keeps the engine's. */
export type AdviceTable = Readonly<Record<string, (data: RunnerErrorData) => string | undefined>>;

interface RunnerErrorShape {
  name: 'RunnerError';
  code: string;
  message: string;
  problem?: string;
  data?: RunnerErrorData;
}

function isRunnerError(error: unknown): error is RunnerErrorShape {
  const e = error as Partial<RunnerErrorShape> | undefined;
  return Boolean(e) && e?.name === 'RunnerError' && typeof e.code === 'string' && typeof e.message === 'string';
}

/** The error's message with this front end's advice; other errors' own message. */
export function messageWithAdvice(error: unknown, table: AdviceTable): string {
  if (!isRunnerError(error)) return error instanceof Error ? error.message : String(error);
  const data = error.data ?? {};
  const key = typeof data.fix === 'string' ? data.fix : error.code;
  const advice = Object.prototype.hasOwnProperty.call(table, key) ? table[key](data) : undefined;
  return advice && error.problem ? joinAdvice(error.problem, advice) : error.message;
}
