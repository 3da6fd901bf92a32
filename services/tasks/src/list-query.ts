import { createHash, createHmac, timingSafeEqual } from "node:crypto";

/**
 * ListTasks ordering and keyset paging. Every order is a tuple of key expressions compared in one
 * direction, so the next page is `(k1, k2, …, id) > (last values)`: one index range scan per page
 * (see the tasks_by_* indexes in the migration), however deep the page.
 */
interface OrderKey {
  sql: string;
  /** SQL cast of the page-token value when fed back as a parameter. */
  type: "timestamptz" | "int" | "text" | "uuid";
}

export interface ListOrder {
  keys: OrderKey[];
  descending: boolean;
  /** Canonical text, part of the page-token fingerprint. */
  canonical: string;
}

const DUE: OrderKey = { sql: `coalesce(due_at, 'infinity'::timestamptz)`, type: "timestamptz" };
const DUE_LAST_DESC: OrderKey = { sql: `coalesce(due_at, '-infinity'::timestamptz)`, type: "timestamptz" };
const ID: OrderKey = { sql: "id", type: "uuid" };

const ORDERS: Record<string, { defaultDesc: boolean; keys(desc: boolean): { keys: OrderKey[]; descending: boolean } }> = {
  // Tasks without a due come last in both directions.
  due: { defaultDesc: false, keys: (desc) => ({ keys: [desc ? DUE_LAST_DESC : DUE, ID], descending: desc }) },
  // Within one priority the soonest due first: rank is flipped instead of the direction.
  priority: {
    defaultDesc: true,
    keys: (desc) => ({ keys: [{ sql: desc ? "(5 - priority)" : "priority", type: "int" }, DUE, ID], descending: false }),
  },
  created: { defaultDesc: true, keys: (desc) => ({ keys: [{ sql: "created_at", type: "timestamptz" }, ID], descending: desc }) },
  updated: { defaultDesc: true, keys: (desc) => ({ keys: [{ sql: "updated_at", type: "timestamptz" }, ID], descending: desc }) },
  title: { defaultDesc: false, keys: (desc) => ({ keys: [{ sql: "lower(title)", type: "text" }, ID], descending: desc }) },
};

export class ListRequestError extends Error {
  constructor(
    readonly field: "order_by" | "page_token",
    message: string,
  ) {
    super(message);
  }
}

export function parseOrderBy(orderBy: string): ListOrder {
  const text = orderBy.trim().toLowerCase();
  const match = /^([a-z_]+)(?:\s+(asc|desc))?$/.exec(text || "due");
  const field = match?.[1]?.replace(/_time$/, "");
  const spec = field ? ORDERS[field] : undefined;
  if (!match || !spec) {
    throw new ListRequestError("order_by", `cannot order by "${orderBy}": use one of ${Object.keys(ORDERS).join(", ")}, optionally followed by " asc" or " desc"`);
  }
  const desc = match[2] ? match[2] === "desc" : spec.defaultDesc;
  return { ...spec.keys(desc), canonical: `${field} ${desc ? "desc" : "asc"}` };
}

/**
 * Columns to select so the last row of a page can become the next token. Timestamps travel as
 * Postgres text: exact to the microsecond (a JS Date is not) and ±infinity survive every driver.
 */
export function keySelect(order: ListOrder): string {
  return order.keys.map((k, i) => `${k.sql}${k.type === "timestamptz" ? "::text" : ""} AS "k${i}"`).join(", ");
}

export function orderBySql(order: ListOrder): string {
  const dir = order.descending ? "DESC" : "ASC";
  return order.keys.map((k) => `${k.sql} ${dir}`).join(", ");
}

/** Fingerprint tying a token to its query and order, so a token is never applied to another list. */
export function fingerprint(query: string, order: ListOrder): string {
  return createHash("sha256").update(`${query}\u0000${order.canonical}`).digest("base64url").slice(0, 12);
}

const MAC_BYTES = 16;

function mac(key: Uint8Array, payload: string): Buffer {
  return createHmac("sha256", key).update(payload).digest().subarray(0, MAC_BYTES);
}

/**
 * `<payload>.<mac>`: the payload (fingerprint and the last row's keys) signed with the service's
 * key (HMAC-SHA-256), so a client can only pass back values the service produced; they go into SQL
 * as typed parameters and a forged one would fail there.
 */
export function encodePageToken(order: ListOrder, fp: string, lastRow: Record<string, unknown>, key: Uint8Array): string {
  const values = order.keys.map((_, i) => lastRow[`k${i}`]);
  const payload = Buffer.from(JSON.stringify({ f: fp, v: values })).toString("base64url");
  return `${payload}.${mac(key, payload).toString("base64url")}`;
}

/** The `(keys) > (values)` condition for the page after `token`. */
export function afterToken(order: ListOrder, fp: string, token: string, key: Uint8Array, placeholder: (value: unknown, type: string) => string): string {
  const notIssued = () => new ListRequestError("page_token", "page_token is not one this service issued: pass next_page_token unchanged");
  const [payload, signature, ...rest] = token.split(".");
  if (!payload || !signature || rest.length > 0) throw notIssued();
  const given = Buffer.from(signature, "base64url");
  if (given.length !== MAC_BYTES || !timingSafeEqual(given, mac(key, payload))) throw notIssued();
  let decoded: { f?: unknown; v?: unknown };
  try {
    decoded = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as typeof decoded;
  } catch {
    throw notIssued();
  }
  if (typeof decoded !== "object" || decoded === null) throw notIssued();
  if (decoded.f !== fp || !Array.isArray(decoded.v) || decoded.v.length !== order.keys.length) {
    throw new ListRequestError("page_token", "page_token belongs to another query or order_by: start again without a page_token");
  }
  const values = decoded.v as unknown[];
  for (const [i, k] of order.keys.entries()) {
    const v = values[i];
    const ok = k.type === "int" ? Number.isInteger(v) : typeof v === "string" && v.length <= 600;
    if (!ok) throw new ListRequestError("page_token", "page_token is damaged: pass next_page_token unchanged");
  }
  const lhs = order.keys.map((k) => k.sql).join(", ");
  const rhs = order.keys.map((k, i) => placeholder(values[i], k.type)).join(", ");
  return `(${lhs}) ${order.descending ? "<" : ">"} (${rhs})`;
}
