import type { ConnectRouter } from "@connectrpc/connect";
import { openDatabase } from "@taskmesh/db";
import { createLogger, type Logger } from "@taskmesh/kit";
import { AuthService } from "@taskmesh/proto/taskmesh/auth/v1/auth_service_pb.js";
import { entities, migrations } from "../migrations/index.js";
import { AccessTokens } from "./access-tokens.js";
import { accountMail, type AccountEmailSettings } from "./account-mail.js";
import { AccountStore } from "./account-store.js";
import { ApiTokenCache, type ApiTokenCacheOptions } from "./api-token-cache.js";
import { createAuthServiceImpl } from "./auth-service.js";
import { Authenticator } from "./authenticator.js";
import { TrustedProxies } from "./client-address.js";
import { PasswordQueue, type PasswordQueueOptions } from "./password-queue.js";
import { AuthRateLimit, defaultLimits, type AuthLimits, type RateLimitOptions } from "./rate-limit.js";

export { TrustedProxies, clientAddressOf } from "./client-address.js";
export { PasswordQueue, type PasswordQueueOptions } from "./password-queue.js";

export { Authenticator, type Identity } from "./authenticator.js";
export { authInterceptor } from "./auth-interceptor.js";
export { AccessTokens, jwtSecret, ACCESS_TOKEN_TTL_SECONDS } from "./access-tokens.js";
export type { AccountEmailSettings } from "./account-mail.js";
export { REFRESH_COOKIE, REFRESH_COOKIE_PATH, REFRESH_IN_BODY_HEADER } from "./refresh-cookie.js";

export interface AuthModuleOptions {
  databaseUrl: string;
  jwtSecret: Uint8Array;
  secureCookie?: boolean;
  /** Per client address + e-mail (defaults: sign-in 10 per 5 min, sign-up 5 per hour). */
  signInLimit?: RateLimitOptions;
  signUpLimit?: RateLimitOptions;
  /** Per client address and per replica (defaults: see defaultLimits). */
  signInLimits?: Partial<Omit<AuthLimits, "perAccount">>;
  signUpLimits?: Partial<Omit<AuthLimits, "perAccount">>;
  /** The bounded queue every password hash goes through. */
  passwordQueue?: PasswordQueueOptions;
  /** CIDRs of the reverse proxies whose X-Forwarded-For is believed (TASKMESH_TRUSTED_PROXIES). */
  trustedProxies?: readonly string[];
  /** Verification and password-reset e-mails (default: written to the log, sign-ups not verified). */
  email?: AccountEmailSettings;
  logger?: Logger;
  now?: () => Date;
  /** API tokens held in memory (defaults: see ApiTokenCache). */
  tokenCache?: ApiTokenCacheOptions;
}

/** Accounts and credentials (schema `auth`), and the authenticator the gateway checks calls with. */
export async function startAuthModule(options: AuthModuleOptions) {
  const db = await openDatabase({ url: options.databaseUrl, schema: "auth", entities, migrations, poolSize: 4 });
  const tokenCache = new ApiTokenCache(options.tokenCache);
  await tokenCache.listen(db);
  const accounts = new AccountStore(db, tokenCache);
  const tokens = new AccessTokens(options.jwtSecret);
  const authenticator = new Authenticator(tokens, accounts, options.now);
  const passwordQueue = new PasswordQueue(options.passwordQueue);
  const logger = options.logger ?? createLogger("accounts");
  const mail = accountMail(options.email ?? { from: "taskmesh <accounts@localhost>" }, logger);
  const impl = createAuthServiceImpl({
    accounts,
    tokens,
    authenticator,
    mail,
    logger,
    signInLimit: new AuthRateLimit("sign-in", {
      perAccount: options.signInLimit ?? { points: 10, windowSeconds: 300 },
      ...defaultLimits("sign-in"),
      ...options.signInLimits,
    }),
    signUpLimit: new AuthRateLimit("sign-up", {
      perAccount: options.signUpLimit ?? { points: 5, windowSeconds: 3600 },
      ...defaultLimits("sign-up"),
      ...options.signUpLimits,
    }),
    resetLimit: new AuthRateLimit("password-reset", { perAccount: options.signUpLimit ?? { points: 5, windowSeconds: 3600 }, ...defaultLimits("sign-up") }),
    passwordQueue,
    trustedProxies: new TrustedProxies(options.trustedProxies ?? []),
    secureCookie: options.secureCookie ?? false,
    now: options.now,
  });
  return {
    services: [AuthService],
    routes: (router: ConnectRouter) => router.service(AuthService, impl),
    authenticator,
    accounts,
    tokens,
    passwordQueue,
    async stop() {
      mail.close();
      await db.close();
    },
  };
}
