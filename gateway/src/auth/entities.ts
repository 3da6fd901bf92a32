import { defineEntity, p } from "@mikro-orm/core";
import type { Scope } from "./scopes.js";
import type { PendingSignUp } from "./account-store.js";

export const User = defineEntity({
  name: "User",
  schema: "auth",
  tableName: "users",
  // One account per address whatever its case.
  uniques: [{ name: "users_email_key", expression: "CREATE UNIQUE INDEX users_email_key ON auth.users USING btree (lower(email))" }],
  // Tells the gateways (ApiTokenCache, and through it live sync) of a changed time zone or e-mail, a
  // sign-out everywhere, or a deleted account.
  triggers: [
    {
      name: "users_credentials_changed",
      timing: "after",
      events: ["update", "delete"],
      expression:
        "CREATE TRIGGER users_credentials_changed AFTER UPDATE OF id, email, time_zone, session_epoch OR DELETE ON auth.users FOR EACH ROW EXECUTE FUNCTION auth.notify_credentials_changed('id')",
    },
  ],
  properties: {
    id: p.uuid().primary(),
    email: p.text(),
    passwordHash: p.text(),
    displayName: p.text().defaultRaw(`''`),
    timeZone: p.text().defaultRaw(`'UTC'`),
    createdAt: p.datetime().defaultRaw("now()"),
    sessionEpoch: p.integer().defaultRaw("0"),
  },
});

/** A refresh token; each use marks it used and issues the next of its family. */
export const RefreshToken = defineEntity({
  name: "RefreshToken",
  schema: "auth",
  tableName: "refresh_tokens",
  indexes: [{ name: "refresh_tokens_family", properties: ["familyId"] }],
  properties: {
    tokenHash: p.blob().primary(),
    familyId: p.uuid(),
    user: () => p.manyToOne(User).ref().deleteRule("cascade").foreignKeyName("refresh_tokens_user_id_fkey"),
    createdAt: p.datetime().defaultRaw("now()"),
    expiresAt: p.datetime(),
    usedAt: p.datetime().strictNullable(),
    revokedAt: p.datetime().strictNullable(),
  },
});

export const ApiToken = defineEntity({
  name: "ApiToken",
  schema: "auth",
  tableName: "api_tokens",
  indexes: [{ name: "api_tokens_user", properties: ["user", "createdAt"] }],
  uniques: [{ name: "api_tokens_secret_hash_key", properties: ["secretHash"] }],
  // Tells the gateways' API token caches (ApiTokenCache) of a token revoked, deleted or changed.
  triggers: [
    {
      name: "api_tokens_credentials_changed",
      timing: "after",
      events: ["update", "delete"],
      expression:
        "CREATE TRIGGER api_tokens_credentials_changed AFTER UPDATE OF user_id, secret_hash, expires_at, revoked_at, scopes OR DELETE ON auth.api_tokens FOR EACH ROW EXECUTE FUNCTION auth.notify_credentials_changed('user_id')",
    },
  ],
  properties: {
    id: p.uuid().primary(),
    user: () => p.manyToOne(User).ref().deleteRule("cascade").foreignKeyName("api_tokens_user_id_fkey"),
    name: p.text(),
    secretHash: p.blob(),
    createdAt: p.datetime().defaultRaw("now()"),
    lastUsedAt: p.datetime().strictNullable(),
    expiresAt: p.datetime().strictNullable(),
    revokedAt: p.datetime().strictNullable(),
    scopes: p.array<Scope>().defaultRaw(`'{read,write}'`),
  },
});

/** A single-use e-mailed link: a sign-up to verify (made from `pending`) or a password reset. */
export const EmailToken = defineEntity({
  name: "EmailToken",
  schema: "auth",
  tableName: "email_tokens",
  indexes: [{ name: "email_tokens_expiry", properties: ["expiresAt"] }],
  checks: [{ name: "email_tokens_purpose_check", expression: "purpose IN ('verify-email', 'reset-password')" }],
  properties: {
    tokenHash: p.blob().primary(),
    purpose: p.text(),
    email: p.text(),
    user: () => p.manyToOne(User).ref().strictNullable().deleteRule("cascade").foreignKeyName("email_tokens_user_id_fkey"),
    pending: p.json<PendingSignUp>().strictNullable(),
    createdAt: p.datetime().defaultRaw("now()"),
    expiresAt: p.datetime(),
    usedAt: p.datetime().strictNullable(),
  },
});
