import { Code, ConnectError, createContextKey, type HandlerContext } from "@connectrpc/connect";

/**
 * The caller's user id, set from trusted request metadata. Services never authenticate: the
 * gateway (or the mesh) does, and forwards the identity in this header.
 */
export const USER_ID_HEADER = "x-user-id";
/** The caller's IANA time zone: relative dates ("today", "friday") are read in it. */
export const TIME_ZONE_HEADER = "x-time-zone";
/** Which of the caller's devices made a change (web, cli, mcp…), carried into its events. */
export const DEVICE_HEADER = "x-device";
/**
 * The device of what the recurrence service does on its own: a completion's next occurrence, and
 * taking it back when that completion is undone. Their history entries are consequences, undone
 * with the change that caused them, not on their own.
 */
export const RECURRENCE_DEVICE = "recurrence";

// Building an Intl.DateTimeFormat took a tenth of the CPU of a task's write; zones are few, so remember them.
const zones = new Map<string, string | undefined>();

/** The canonical spelling of an IANA time zone ("europe/paris" → "Europe/Paris"); undefined when `name` is none. */
export function canonicalTimeZone(name: string): string | undefined {
  if (zones.has(name)) return zones.get(name);
  let canonical: string | undefined;
  try {
    canonical = new Intl.DateTimeFormat("en", { timeZone: name }).resolvedOptions().timeZone;
  } catch {
    canonical = undefined;
  }
  // Bounded: arbitrary invalid names sent by clients must not grow it forever.
  if (zones.size < 1000) zones.set(name, canonical);
  return canonical;
}

export function isTimeZone(name: string): boolean {
  return canonicalTimeZone(name) !== undefined;
}

export const kUserId = createContextKey<string | undefined>(undefined, { description: "authenticated user id" });

/** The TCP peer of the request (the gateway keys rate limits by it). */
export const kClientAddress = createContextKey<string | undefined>(undefined, { description: "client network address" });

const USER_ID = /^[A-Za-z0-9._@:-]{1,128}$/;

export function userIdFromHeaders(headers: { get(name: string): string | null } | NodeJS.Dict<string | string[]>): string | undefined {
  const raw = typeof headers.get === "function" ? (headers as { get(name: string): string | null }).get(USER_ID_HEADER) : (headers as NodeJS.Dict<string | string[]>)[USER_ID_HEADER];
  const value = Array.isArray(raw) ? raw[0] : raw;
  return value && USER_ID.test(value) ? value : undefined;
}

export function requireUser(ctx: HandlerContext): string {
  const userId = ctx.values.get(kUserId) ?? userIdFromHeaders(ctx.requestHeader);
  if (!userId) {
    throw new ConnectError(`missing or malformed "${USER_ID_HEADER}" metadata: send the caller's user id (1-128 chars of A-Z a-z 0-9 . _ @ : -)`, Code.Unauthenticated);
  }
  return userId;
}
