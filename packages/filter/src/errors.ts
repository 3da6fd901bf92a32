/** A query that cannot be understood. `position`/`length` locate the offending part (0-based, UTF-16 units). */
export class FilterSyntaxError extends Error {
  constructor(
    message: string,
    readonly position: number,
    readonly length: number,
  ) {
    super(message);
    this.name = "FilterSyntaxError";
  }
}

/** Bounds that keep hostile input cheap; exceeding one is a FilterSyntaxError. */
export const LIMITS = {
  /** Characters (UTF-16 units) in a query. */
  maxLength: 1000,
  /** Nested parentheses plus negations. */
  maxDepth: 32,
  /** Terms (words, phrases, field terms). */
  maxTerms: 100,
} as const;
