/** A mistake the user fixes as the message says (exit status 2, like a usage error). */
export class UsageError extends Error {}
