/**
 * For a field that empties once what it held was saved: the state update that empties it only if
 * it still holds what was sent. People type the next entry as soon as the last one shows, while the
 * lists are still being refreshed; emptying the field then would throw their typing away.
 */
export function emptiedIfStill(sent: string): (typed: string) => string {
  return (typed) => (typed.trim() === sent.trim() ? "" : typed);
}
