import { createHash } from "node:crypto";

/** Where the next page starts: the last entry of this one, tied to the list it came from. */
export interface PagePosition {
  occurredKey: string;
  seq: string;
}

export class PageTokenError extends Error {}

// PostgreSQL's text form of a timestamptz, as the log selects it.
const PG_TIMESTAMPTZ = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?[+-]\d{2}(:\d{2}){0,2}$/;
const SEQ = /^\d{1,19}$/;

/** Ties a token to its task and kinds, so it is never applied to another list. */
export function listFingerprint(taskId: string, kinds: readonly number[]): string {
  const key = `${taskId}\u0000${[...kinds].sort((a, b) => a - b).join(",")}`;
  return createHash("sha256").update(key).digest("base64url").slice(0, 12);
}

export function encodePageToken(fingerprint: string, at: PagePosition): string {
  return Buffer.from(JSON.stringify({ f: fingerprint, t: at.occurredKey, s: at.seq })).toString("base64url");
}

export function decodePageToken(fingerprint: string, token: string): PagePosition {
  let decoded: { f?: unknown; t?: unknown; s?: unknown };
  try {
    decoded = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as typeof decoded;
  } catch {
    throw new PageTokenError("page_token is not one this service issued: pass next_page_token unchanged");
  }
  if (typeof decoded !== "object" || decoded === null || decoded.f !== fingerprint) {
    throw new PageTokenError("page_token belongs to another task_id or kinds: start again without a page_token");
  }
  if (typeof decoded.t !== "string" || !PG_TIMESTAMPTZ.test(decoded.t) || typeof decoded.s !== "string" || !SEQ.test(decoded.s)) {
    throw new PageTokenError("page_token is damaged: pass next_page_token unchanged");
  }
  return { occurredKey: decoded.t, seq: decoded.s };
}
