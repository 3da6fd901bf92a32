/**
 * The page size a list call serves, as AIP-158 reads `page_size`: 0 is the list's default, more than
 * its maximum is the maximum (a script asking for "everything" gets full pages and a token, not an
 * error). Negative sizes are refused by the request's rules before this.
 */
export function pageSizeOf(requested: number, size: { default: number; max: number }): number {
  return requested === 0 ? size.default : Math.min(requested, size.max);
}
