/**
 * What an empty list under a task says: still loading; offline, that it shows once the server
 * answers (a paused read is not an empty one); or that there is nothing.
 */
export function emptyNote(read: { isPending: boolean; isPaused: boolean }, what: string, nothing: string): string {
  if (!read.isPending) return nothing;
  return read.isPaused ? `You are offline: the ${what} show once the server answers again.` : "Loading…";
}
