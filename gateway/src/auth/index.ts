import type { ConnectRouter } from "@connectrpc/connect";
import { openDatabase } from "@taskmesh/db";
import { AuthService } from "@taskmesh/proto/taskmesh/auth/v1/auth_service_pb.js";
import { migrations } from "../migrations/index.js";
import { AccessTokens } from "./access-tokens.js";
import { AccountStore } from "./account-store.js";
import { createAuthServiceImpl } from "./auth-service.js";
import { Authenticator } from "./authenticator.js";
import { AuthRateLimit, type RateLimitOptions } from "./rate-limit.js";

export { Authenticator, type Identity } from "./authenticator.js";
export { authInterceptor } from "./auth-interceptor.js";
export { AccessTokens, jwtSecret, ACCESS_TOKEN_TTL_SECONDS } from "./access-tokens.js";
export { REFRESH_COOKIE, REFRESH_COOKIE_PATH, REFRESH_IN_BODY_HEADER } from "./refresh-cookie.js";

export interface AuthModuleOptions {
  databaseUrl: string;
  jwtSecret: Uint8Array;
  secureCookie?: boolean;
  /** Per client address + e-mail (defaults: sign-in 10 per 5 min, sign-up 5 per hour). */
  signInLimit?: RateLimitOptions;
  signUpLimit?: RateLimitOptions;
  now?: () => Date;
}

/** Accounts and credentials (schema `auth`), and the authenticator the gateway checks calls with. */
export async function startAuthModule(options: AuthModuleOptions) {
  const db = await openDatabase({ url: options.databaseUrl, schema: "auth", entities: [], migrations, poolSize: 4 });
  const accounts = new AccountStore(db);
  const tokens = new AccessTokens(options.jwtSecret);
  const authenticator = new Authenticator(tokens, accounts, options.now);
  const impl = createAuthServiceImpl({
    accounts,
    tokens,
    signInLimit: new AuthRateLimit("sign-in", options.signInLimit ?? { points: 10, windowSeconds: 300 }),
    signUpLimit: new AuthRateLimit("sign-up", options.signUpLimit ?? { points: 5, windowSeconds: 3600 }),
    secureCookie: options.secureCookie ?? false,
    now: options.now,
  });
  return {
    services: [AuthService],
    routes: (router: ConnectRouter) => router.service(AuthService, impl),
    authenticator,
    tokens,
    stop: () => db.close(),
  };
}
