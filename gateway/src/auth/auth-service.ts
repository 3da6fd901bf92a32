import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import { canonicalTimeZone, invalidArgument, kClientAddress, type Logger } from "@taskmesh/kit";
import {
  ApiTokenSchema,
  type AuthService,
  UserSchema,
  type User,
  type CreateApiTokenRequest,
  type RefreshRequest,
  type RequestPasswordResetRequest,
  type ResetPasswordRequest,
  type RevokeApiTokenRequest,
  type SignInRequest,
  type SignOutRequest,
  type SignUpRequest,
  type UpdateAccountRequest,
  type VerifyEmailRequest,
} from "@taskmesh/proto/taskmesh/auth/v1/auth_service_pb.js";
import type { AccountStore, ApiTokenRow, UserRow } from "./account-store.js";
import type { AccessTokens } from "./access-tokens.js";
import type { AccountMail } from "./account-mail.js";
import { callerOf } from "./auth-interceptor.js";
import { unauthenticated, type Authenticator } from "./authenticator.js";
import { checkPasswordStrength } from "./password-strength.js";
import { DEFAULT_SCOPES, scopeFromProto, scopeToProto } from "./scopes.js";
import { DUMMY_HASH, hashPassword, verifyPassword } from "./passwords.js";
import { clientAddressOf, type TrustedProxies } from "./client-address.js";
import type { PasswordQueue } from "./password-queue.js";
import type { AuthRateLimit } from "./rate-limit.js";
import { clearedRefreshCookie, REFRESH_IN_BODY_HEADER, refreshCookie, refreshFromCookie } from "./refresh-cookie.js";

export interface AuthServiceDeps {
  accounts: AccountStore;
  tokens: AccessTokens;
  authenticator: Authenticator;
  mail: AccountMail;
  logger: Logger;
  signInLimit: AuthRateLimit;
  signUpLimit: AuthRateLimit;
  /** Password-reset requests (each sends an e-mail). */
  resetLimit: AuthRateLimit;
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

const VERIFY_LINK_TTL_MS = 24 * 3600 * 1000;
const RESET_LINK_TTL_MS = 3600 * 1000;
const BAD_LINK = "this link is unknown, already used or expired";

/** What the handlers share. */
type Deps = AuthServiceDeps & { now: () => Date };

export function createAuthServiceImpl(options: AuthServiceDeps): ServiceImpl<typeof AuthService> {
  const deps: Deps = { ...options, now: options.now ?? (() => new Date()) };
  return {
    signUp: (req, ctx) => signUp(deps, req, ctx),
    verifyEmail: (req, ctx) => verifyEmail(deps, req, ctx),
    requestPasswordReset: (req, ctx) => requestPasswordReset(deps, req, ctx),
    resetPassword: (req) => resetPassword(deps, req),
    signIn: (req, ctx) => signIn(deps, req, ctx),
    refresh: (req, ctx) => refresh(deps, req, ctx),
    signOut: (req, ctx) => signOut(deps, req, ctx),
    getAccount: (_req, ctx) => getAccount(deps, ctx),
    updateAccount: (req, ctx) => updateAccount(deps, req, ctx),
    createApiToken: (req, ctx) => createApiToken(deps, req, ctx),
    listApiTokens: (_req, ctx) => listApiTokens(deps, ctx),
    revokeApiToken: (req, ctx) => revokeApiToken(deps, req, ctx),
  };
}

// Sent after the answer, so how long a call takes does not tell whether the address has an account.
const deliver = ({ mail, logger }: Deps, to: string, subject: string, text: string) => {
  mail.send(to, subject, text).catch((err: unknown) => logger.error({ err, subject }, "account e-mail could not be sent"));
};

const resetLink = async ({ accounts, mail, now }: Deps, user: UserRow) =>
  mail.link("/reset-password", await accounts.createEmailToken("reset-password", user.email, user.id, null, now(), RESET_LINK_TTL_MS));

/** Access token + refresh token (cookie for browsers, body for clients that ask). */
const session = async ({ accounts, tokens, now, secureCookie }: Deps, user: UserRow, ctx: HandlerContext, refresh?: string) => {
  const at = now();
  const access = await tokens.issue(user.id, user.timeZone, at, user.sessionEpoch, user.email);
  const refreshToken = refresh ?? (await accounts.startRefreshFamily(user.id, at));
  const inBody = ctx.requestHeader.get(REFRESH_IN_BODY_HEADER) === "1";
  if (!inBody) ctx.responseHeader.append("set-cookie", refreshCookie(refreshToken, secureCookie));
  return {
    accessToken: access.token,
    accessTokenExpireTime: timestampFromDate(access.expiresAt),
    user: toUser(user),
    refreshToken: inBody ? refreshToken : "",
  };
};

/** Sign-out everywhere: the device's live refresh token, else a signed-in access token. */
const signedInUser = async ({ accounts, authenticator, now }: Deps, refresh: string | undefined, ctx: HandlerContext): Promise<string> => {
  const fromRefresh = refresh && (await accounts.refreshTokenUser(refresh, now()));
  if (fromRefresh) return fromRefresh;
  if (ctx.requestHeader.has("authorization")) {
    const identity = await authenticator.fromHeaders(ctx.requestHeader);
    if (identity.kind === "session") return identity.userId;
  }
  throw unauthenticated("signing out every session needs this device's session (the refresh cookie or a signed-in access token)");
};

const caller = async ({ accounts }: Deps, ctx: HandlerContext) => {
  const user = await accounts.user(callerOf(ctx).userId);
  if (!user) throw unauthenticated("the account of this token no longer exists");
  return user;
};

async function signUp(deps: Deps, req: SignUpRequest, ctx: HandlerContext) {
  const { accounts, mail, now } = deps;
  const email = req.email.trim();
  await deps.signUpLimit.attempt(clientAddress(ctx, deps.trustedProxies), email);
  const timeZone = checkTimeZone(req.timeZone || "UTC", "time_zone");
  await checkPasswordStrength(req.password, "password", email);
  const hash = await deps.passwordQueue.run(() => hashPassword(req.password));
  const displayName = req.displayName.trim();
  if (!mail.verifiesSignUps) {
    const user = await accounts.createUser(email, hash, displayName, timeZone);
    if (!user) throw new ConnectError("an account with this e-mail already exists: sign in instead", Code.AlreadyExists);
    return session(deps, user, ctx);
  }
  // The same answer either way; only the owner of the address learns, by e-mail, which it was.
  const existing = await accounts.userByEmail(email);
  if (existing) {
    deliver(
      deps,
      existing.email,
      "Your taskmesh account",
      `Someone, hopefully you, tried to sign up with this address, which already has an account.\n\nSign in, or choose a new password here (the link works once, within an hour):\n${await resetLink(deps, existing)}\n\nIf it was not you, nothing has changed.`,
    );
  } else {
    const token = await accounts.createEmailToken("verify-email", email, null, { passwordHash: hash, displayName, timeZone }, now(), VERIFY_LINK_TTL_MS);
    deliver(
      deps,
      email,
      "Confirm your taskmesh account",
      `Open this link to finish signing up (it works once, within 24 hours):\n${mail.link("/verify-email", token)}\n\nIf you did not sign up, ignore this e-mail: no account is made without it.`,
    );
  }
  return { verificationSent: true };
}

async function verifyEmail(deps: Deps, req: VerifyEmailRequest, ctx: HandlerContext) {
  const { accounts, now } = deps;
  const row = await accounts.takeEmailToken(req.token, "verify-email", now());
  if (!row?.pending) throw invalidArgument([{ field: "token", ruleId: "token.valid", message: `${BAD_LINK}: sign up again` }]);
  const user = await accounts.createUser(row.email, row.pending.passwordHash, row.pending.displayName, row.pending.timeZone);
  // Two sign-ups of one address, both confirmed: the first made the account.
  if (!user) throw new ConnectError("this e-mail already has an account: sign in", Code.AlreadyExists);
  return session(deps, user, ctx);
}

async function requestPasswordReset(deps: Deps, req: RequestPasswordResetRequest, ctx: HandlerContext) {
  const { accounts } = deps;
  const email = req.email.trim();
  await deps.resetLimit.attempt(clientAddress(ctx, deps.trustedProxies), email);
  const user = await accounts.userByEmail(email);
  if (user) {
    const link = await resetLink(deps, user);
    deliver(
      deps,
      user.email,
      "Reset your taskmesh password",
      `Choose a new password here (the link works once, within an hour):\n${link}\n\nIf you did not ask for it, ignore this e-mail: your password has not changed.`,
    );
  }
  return {};
}

async function resetPassword(deps: Deps, req: ResetPasswordRequest) {
  const { accounts, now } = deps;
  await checkPasswordStrength(req.newPassword, "new_password", "");
  const row = await accounts.takeEmailToken(req.token, "reset-password", now());
  if (!row?.userId) throw invalidArgument([{ field: "token", ruleId: "token.valid", message: `${BAD_LINK}: ask for a new one` }]);
  const hash = await deps.passwordQueue.run(() => hashPassword(req.newPassword));
  await accounts.setPasswordHash(row.userId, hash);
  // Whoever knew the old password is signed out too.
  await accounts.endAllSessions(row.userId, now());
  deps.authenticator.forgetEpoch(row.userId);
  return {};
}

async function signIn(deps: Deps, req: SignInRequest, ctx: HandlerContext) {
  const { accounts } = deps;
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
  return session(deps, user, ctx);
}

async function refresh(deps: Deps, req: RefreshRequest, ctx: HandlerContext) {
  const { accounts, now } = deps;
  const token = req.refreshToken || refreshFromCookie(ctx.requestHeader);
  if (!token) throw unauthenticated("no refresh token: sign in (browsers send the tm_refresh cookie)");
  const outcome = await accounts.rotateRefresh(token, now());
  if (!outcome.ok) {
    ctx.responseHeader.append("set-cookie", clearedRefreshCookie(deps.secureCookie));
    throw unauthenticated(REFRESH_REFUSED[outcome.reason]!);
  }
  const user = await accounts.user(outcome.userId);
  if (!user) throw unauthenticated("the account no longer exists");
  return session(deps, user, ctx, outcome.next);
}

async function signOut(deps: Deps, req: SignOutRequest, ctx: HandlerContext) {
  const { accounts, now } = deps;
  const token = req.refreshToken || refreshFromCookie(ctx.requestHeader);
  if (req.everySession) {
    const userId = await signedInUser(deps, token, ctx);
    await accounts.endAllSessions(userId, now());
    deps.authenticator.forgetEpoch(userId);
  } else if (token) await accounts.revokeRefreshFamily(token, now());
  ctx.responseHeader.append("set-cookie", clearedRefreshCookie(deps.secureCookie));
  return {};
}

async function getAccount(deps: Deps, ctx: HandlerContext) {
  return { user: toUser(await caller(deps, ctx)) };
}

async function updateAccount(deps: Deps, req: UpdateAccountRequest, ctx: HandlerContext) {
  const { accounts } = deps;
  const user = await caller(deps, ctx);
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
}

async function createApiToken(deps: Deps, req: CreateApiTokenRequest, ctx: HandlerContext) {
  const { accounts, now } = deps;
  const user = await caller(deps, ctx);
  const scopes = req.scopes.length > 0 ? req.scopes.map(scopeFromProto) : DEFAULT_SCOPES;
  const expiresAt = req.validDays > 0 ? new Date(now().getTime() + req.validDays * 86_400_000) : null;
  const identity = callerOf(ctx);
  if (identity.kind === "api-token") {
    // A token hands on at most what it has: no scope it lacks, no life beyond its own.
    const wider = scopes.filter((s) => !identity.scopes.includes(s));
    if (wider.length > 0) {
      throw invalidArgument([
        {
          field: "scopes",
          ruleId: "scopes.within_caller",
          message: `the token making this one lacks ${wider.join(", ")}: a token can only hand on its own scopes (${identity.scopes.join(", ")})`,
        },
      ]);
    }
    if (identity.expiresAt && (!expiresAt || expiresAt > identity.expiresAt)) {
      const days = Math.floor((identity.expiresAt.getTime() - now().getTime()) / 86_400_000);
      throw invalidArgument([
        { field: "valid_days", ruleId: "valid_days.within_caller", message: `must end before the token making it does (${identity.expiresAt.toISOString()}): at most ${days} days` },
      ]);
    }
  }
  const { row, secret } = await accounts.createApiToken(user.id, req.name.trim(), expiresAt, scopes);
  return { token: toApiToken(row), secret };
}

async function listApiTokens(deps: Deps, ctx: HandlerContext) {
  const { accounts } = deps;
  const user = await caller(deps, ctx);
  return { tokens: (await accounts.listApiTokens(user.id)).map(toApiToken) };
}

async function revokeApiToken(deps: Deps, req: RevokeApiTokenRequest, ctx: HandlerContext) {
  const { accounts, now } = deps;
  const user = await caller(deps, ctx);
  if (!(await accounts.revokeApiToken(user.id, req.id, now()))) throw new ConnectError(`no API token "${req.id}"`, Code.NotFound);
  return {};
}

function clientAddress(ctx: HandlerContext, trusted: TrustedProxies): string {
  return clientAddressOf(ctx.values.get(kClientAddress), ctx.requestHeader.get("x-forwarded-for"), trusted);
}

function checkTimeZone(zone: string, field: string): string {
  const canonical = canonicalTimeZone(zone);
  if (canonical === undefined) throw invalidArgument([{ field, ruleId: `${field}.iana`, message: `"${zone}" is not an IANA time zone (e.g. "Europe/Paris")` }]);
  return canonical;
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
    scopes: row.scopes.map(scopeToProto),
  });
}
