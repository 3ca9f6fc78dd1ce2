// A mistake the user can fix themselves (no file open, an untitled buffer of an unknown language,
// several instances for one terminal): shown as its message alone, without the AWS error's buttons.
export class UserError extends Error {}
