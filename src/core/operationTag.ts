// Tags every failed SDK call with its service and operation, so that error mapping can name the
// IAM action (e.g. "ssm:SendCommand") without each call site repeating it.
import type { MiddlewareStack } from '@smithy/types';

export interface FailedOperation {
  /** e.g. "SSMClient" */
  clientName: string;
  /** e.g. "SendCommand" */
  operation: string;
}

const OPERATION = Symbol.for('ec2-runner.failedOperation');

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyStack = MiddlewareStack<any, any>;

export function annotateFailedOperation<T extends { middlewareStack: unknown }>(client: T): T {
  (client.middlewareStack as AnyStack).add(
    (next, context) => async (args) => {
      try {
        return await next(args);
      } catch (error) {
        if (error && typeof error === 'object' && !(OPERATION in error)) {
          const operation: FailedOperation = {
            clientName: String(context.clientName ?? ''),
            operation: String(context.commandName ?? '').replace(/Command$/, ''),
          };
          Object.defineProperty(error, OPERATION, { value: operation, enumerable: false });
        }
        throw error;
      }
    },
    { step: 'initialize', name: 'ec2RunnerOperationTag', priority: 'high' },
  );
  return client;
}

export function failedOperationOf(error: unknown): FailedOperation | undefined {
  if (error && typeof error === 'object' && OPERATION in error) {
    return (error as Record<symbol, FailedOperation>)[OPERATION];
  }
  return undefined;
}
