import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import { invalidArgument, kClientAddress } from "@taskmesh/kit";
import { ApiTokenSchema, type AuthService, UserSchema, type User } from "@taskmesh/proto/taskmesh/auth/v1/auth_service_pb.js";
import type { AccountStore, ApiTokenRow, UserRow } from "./account-store.js";
import type { AccessTokens } from "./access-tokens.js";
import { callerOf } from "./auth-interceptor.js";
import { unauthenticated } from "./authenticator.js";
import { DUMMY_HASH, hashPassword, verifyPassword } from "./passwords.js";
import { clientAddressOf, type TrustedProxies } from "./client-address.js";
import type { PasswordQueue } from "./password-queue.js";
import type { AuthRateLimit } from "./rate-limit.js";
import { clearedRefreshCookie, REFRESH_IN_BODY_HEADER, refreshCookie, refreshFromCookie } from "./refresh-cookie.js";

export interface AuthServiceDeps {
  accounts: AccountStore;
  tokens: AccessTokens;
  signInLimit: AuthRateLimit;
  signUpLimit: AuthRateLimit;
  /** Every password hash (sign-up, sign-in, unknown e-mails included) waits its turn here. */
  passwordQueue: PasswordQueue;
  /** Whose X-Forwarded-For is believed. */
  trustedProxies: TrustedProxies;
  /** Mark the refresh cookie Secure (served over HTTPS). */
  secureCookie: boolean;
  now?: () => Date;
}

const REFRESH_REFUSED: Record<string, string> = {
  unknown: "refresh token unknown: sign in again",
  expired: "refresh token expired: sign in again",
  revoked: "refresh token revoked: sign in again",
  reused: "refresh token was already used, so it may have leaked: every session of this sign-in is revoked; sign in again",
};

export function createAuthServiceImpl(deps: AuthServiceDeps): ServiceImpl<typeof AuthService> {
  const { accounts, tokens } = deps;
  const now = deps.now ?? (() => new Date());

  /** Access token + refresh token (cookie for browsers, body for clients that ask). */
  const session = async (user: UserRow, ctx: HandlerContext, refresh?: string) => {
    const at = now();
    const access = await tokens.issue(user.id, user.timeZone, at);
    const refreshToken = refresh ?? (await accounts.startRefreshFamily(user.id, at));
    const inBody = ctx.requestHeader.get(REFRESH_IN_BODY_HEADER) === "1";
    if (!inBody) ctx.responseHeader.append("set-cookie", refreshCookie(refreshToken, deps.secureCookie));
    return {
      accessToken: access.token,
      accessTokenExpireTime: timestampFromDate(access.expiresAt),
      user: toUser(user),
      refreshToken: inBody ? refreshToken : "",
    };
  };

  const caller = async (ctx: HandlerContext) => {
    const user = await accounts.user(callerOf(ctx).userId);
    if (!user) throw unauthenticated("the account of this token no longer exists");
    return user;
  };

  return {
    async signUp(req, ctx) {
      const email = req.email.trim();
      await deps.signUpLimit.attempt(clientAddress(ctx, deps.trustedProxies), email);
      const timeZone = checkTimeZone(req.timeZone || "UTC", "time_zone");
      const hash = await deps.passwordQueue.run(() => hashPassword(req.password));
      const user = await accounts.createUser(email, hash, req.displayName.trim(), timeZone);
      if (!user) throw new ConnectError("an account with this e-mail already exists: sign in instead", Code.AlreadyExists);
      return session(user, ctx);
    },

    async signIn(req, ctx) {
      const email = req.email.trim();
      const address = clientAddress(ctx, deps.trustedProxies);
      await deps.signInLimit.attempt(address, email);
      // The lookup waits in the queue too: a refused attempt costs no database round trip.
      const { user, ok } = await deps.passwordQueue.run(async () => {
        const user = await accounts.userByEmail(email);
        // Hash even for an unknown e-mail so response time does not reveal which addresses exist.
        return { user, ok: await verifyPassword(req.password, user?.passwordHash ?? DUMMY_HASH) };
      });
      if (!user || !ok) throw unauthenticated("wrong e-mail or password");
      await deps.signInLimit.reset(address, email);
      return session(user, ctx);
    },

    async refresh(req, ctx) {
      const token = req.refreshToken || refreshFromCookie(ctx.requestHeader);
      if (!token) throw unauthenticated("no refresh token: sign in (browsers send the tm_refresh cookie)");
      const outcome = await accounts.rotateRefresh(token, now());
      if (!outcome.ok) {
        ctx.responseHeader.append("set-cookie", clearedRefreshCookie(deps.secureCookie));
        throw unauthenticated(REFRESH_REFUSED[outcome.reason]!);
      }
      const user = await accounts.user(outcome.userId);
      if (!user) throw unauthenticated("the account no longer exists");
      return session(user, ctx, outcome.next);
    },

    async signOut(req, ctx) {
      const token = req.refreshToken || refreshFromCookie(ctx.requestHeader);
      if (token) await accounts.revokeRefreshFamily(token, now());
      ctx.responseHeader.append("set-cookie", clearedRefreshCookie(deps.secureCookie));
      return {};
    },

    async getAccount(_req, ctx) {
      return { user: toUser(await caller(ctx)) };
    },

    async updateAccount(req, ctx) {
      const user = await caller(ctx);
      const paths = req.updateMask.length > 0 ? req.updateMask : ["display_name", "time_zone"];
      const unknown = paths.filter((p) => p !== "display_name" && p !== "time_zone");
      if (unknown.length > 0) {
        throw invalidArgument([{ field: "update_mask", ruleId: "update_mask.paths", message: `unknown paths ${unknown.join(", ")}: use display_name, time_zone` }]);
      }
      const updated = await accounts.updateUser(user.id, {
        displayName: paths.includes("display_name") ? req.displayName.trim() : undefined,
        timeZone: paths.includes("time_zone") ? checkTimeZone(req.timeZone, "time_zone") : undefined,
      });
      return { user: toUser(updated!) };
    },

    async createApiToken(req, ctx) {
      const user = await caller(ctx);
      const expiresAt = req.validDays > 0 ? new Date(now().getTime() + req.validDays * 86_400_000) : null;
      const { row, secret } = await accounts.createApiToken(user.id, req.name.trim(), expiresAt);
      return { token: toApiToken(row), secret };
    },

    async listApiTokens(_req, ctx) {
      const user = await caller(ctx);
      return { tokens: (await accounts.listApiTokens(user.id)).map(toApiToken) };
    },

    async revokeApiToken(req, ctx) {
      const user = await caller(ctx);
      if (!(await accounts.revokeApiToken(user.id, req.id, now()))) throw new ConnectError(`no API token "${req.id}"`, Code.NotFound);
      return {};
    },
  };
}

function clientAddress(ctx: HandlerContext, trusted: TrustedProxies): string {
  return clientAddressOf(ctx.values.get(kClientAddress), ctx.requestHeader.get("x-forwarded-for"), trusted);
}

function checkTimeZone(zone: string, field: string): string {
  try {
    // Canonical spelling ("europe/paris" → "Europe/Paris"); throws RangeError for unknown zones.
    return new Intl.DateTimeFormat("en", { timeZone: zone }).resolvedOptions().timeZone;
  } catch {
    throw invalidArgument([{ field, ruleId: `${field}.iana`, message: `"${zone}" is not an IANA time zone (e.g. "Europe/Paris")` }]);
  }
}

function toUser(row: UserRow): User {
  return create(UserSchema, {
    id: row.id,
    email: row.email,
    displayName: row.displayName,
    timeZone: row.timeZone,
    createdTime: timestampFromDate(new Date(row.createdAt)),
  });
}

function toApiToken(row: ApiTokenRow) {
  return create(ApiTokenSchema, {
    id: row.id,
    name: row.name,
    createTime: timestampFromDate(new Date(row.createdAt)),
    lastUsedTime: row.lastUsedAt ? timestampFromDate(new Date(row.lastUsedAt)) : undefined,
    expireTime: row.expiresAt ? timestampFromDate(new Date(row.expiresAt)) : undefined,
  });
}
