import { v5 as uuidv5 } from "uuid";

// Namespace for task ids derived from (user, request id); any fixed UUID, never to change.
const REQUEST_NAMESPACE = "6f1d3c1e-7c55-4b47-9a7e-1f0b4f5f2a11";

/**
 * The task id a user's CreateTask request id maps to (UUID v5): retries land on the same row, and
 * the caller that chose the request id knows the task's id without asking for it.
 */
export function idForRequest(userId: string, requestId: string): string {
  return uuidv5(`${userId}\u0000${requestId}`, REQUEST_NAMESPACE);
}
