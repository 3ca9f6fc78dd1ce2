// Opening and ending Session Manager sessions through the SSM API (StartSession, ResumeSession,
// TerminateSession), then the data channel. Errors become one actionable RunnerError.
import {
  ResumeSessionCommand,
  type SSMClient,
  StartSessionCommand,
  TerminateSessionCommand,
} from '@aws-sdk/client-ssm';
import { RunnerError } from '../api';
import { errorName, toRunnerError } from '../errors';
import { DataChannel, type HandshakeInfo } from './dataChannel';

export const DOCUMENTS = {
  nonInteractive: 'AWS-StartNonInteractiveCommand',
  interactive: 'AWS-StartInteractiveCommand',
  portForwarding: 'AWS-StartPortForwardingSession',
} as const;

export interface StartSessionRequest {
  ssm: SSMClient;
  instanceId: string;
  documentName: string;
  parameters?: Record<string, string[]>;
  reason?: string;
  /** Tests: report another client version (e.g. one before smux). */
  clientVersion?: string;
}

export interface OpenSession {
  sessionId: string;
  channel: DataChannel;
  handshake: HandshakeInfo;
  /** TerminateSession (errors ignored: the session may already be over) and close the channel. */
  terminate(): Promise<void>;
}

/** StartSession, open and authenticate the data channel, complete the handshake. */
export async function openSession(request: StartSessionRequest): Promise<OpenSession> {
  const { ssm, instanceId, documentName } = request;
  let started;
  try {
    started = await ssm.send(
      new StartSessionCommand({
        Target: instanceId,
        DocumentName: documentName,
        Parameters: request.parameters,
        Reason: request.reason,
      }),
    );
  } catch (error) {
    throw sessionError(error, instanceId, documentName);
  }
  if (!started.SessionId || !started.StreamUrl || !started.TokenValue)
    throw new RunnerError('StartSession answered without a session id, stream URL or token.', 'SessionStartFailed');
  const sessionId = started.SessionId;
  const terminate = async () => {
    try {
      await ssm.send(new TerminateSessionCommand({ SessionId: sessionId }));
    } catch {
      // already over, or no permission: the session then ends at its idle timeout
    }
  };
  const channel = new DataChannel({
    clientVersion: request.clientVersion,
    endpoint: { sessionId, streamUrl: started.StreamUrl, tokenValue: started.TokenValue },
    resume: async () => {
      try {
        const resumed = await ssm.send(new ResumeSessionCommand({ SessionId: sessionId }));
        return resumed.TokenValue || undefined;
      } catch (error) {
        if (errorName(error) === 'DoesNotExistException') return undefined;
        throw toRunnerError(error, { action: 'ssm:ResumeSession' });
      }
    },
  });
  try {
    await channel.open();
    const handshake = await channel.waitForHandshake();
    return {
      sessionId,
      channel,
      handshake,
      terminate: async () => {
        channel.close();
        await terminate();
      },
    };
  } catch (error) {
    channel.close();
    await terminate();
    throw error;
  }
}

function sessionError(error: unknown, instanceId: string, documentName: string): RunnerError {
  const name = errorName(error);
  if (name === 'TargetNotConnected') {
    const problem =
      `Instance ${instanceId} is not connected to Session Manager: its SSM agent is offline or cannot reach ` +
      `ssmmessages.<region>.amazonaws.com (the instance role needs AmazonSSMManagedInstanceCore).`;
    return new RunnerError(problem, 'TargetNotConnected', {
      cause: error,
      advice: 'Check its status in the instance list.',
      data: { instanceId },
    });
  }
  if (name === 'InvalidDocument') {
    return new RunnerError(
      `Session document ${documentName} is not available in this region or account.`,
      'InvalidDocument',
      { cause: error },
    );
  }
  const mapped = toRunnerError(error, { action: 'ssm:StartSession' });
  if (mapped.code === 'AccessDenied') {
    return new RunnerError(
      `Access denied for ssm:StartSession on ${instanceId} with document ${documentName}: grant your IAM ` +
        `identity ssm:StartSession on the instance and on the document (see docs/SECURITY.md) and retry.`,
      'AccessDenied',
      { cause: error },
    );
  }
  return mapped;
}
