// negotiator 1.x, as much of it as the gateway uses. @types/negotiator describes 0.6, which lacks
// the `preferred` option that breaks ties between codings a client accepts equally.
declare module "negotiator" {
  class Negotiator {
    constructor(request: { headers: Record<string, string | string[] | undefined> });
    /** The available codings the request accepts, most wanted first (identity is acceptable unless refused). */
    encodings(available: readonly string[], options?: { preferred?: readonly string[] }): string[];
  }
  export = Negotiator;
}
