// AWS error shapes. One error class; each protocol renders it its own way (server.ts).

export class AwsError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
    /** Extra XML elements for S3 errors (e.g. Key, BucketName). */
    readonly details: Record<string, string> = {},
    /** Extra response headers for S3 errors (e.g. x-amz-bucket-region on a 301). */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export const accessDenied = (message = 'Access Denied') => new AwsError('AccessDenied', message, 403);
export const validation = (message: string) => new AwsError('ValidationException', message, 400);
/** SSM's "1 validation error detected: ..." shape for model constraint violations. */
export const constraint = (value: unknown, member: string, rule: string) =>
  validation(
    `1 validation error detected: Value '${String(value)}' at '${member}' failed to satisfy constraint: ${rule}`,
  );
