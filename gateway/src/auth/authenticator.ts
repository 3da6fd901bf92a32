import { Code, ConnectError } from "@connectrpc/connect";
import { API_TOKEN_PREFIX, type AccountStore } from "./account-store.js";
import type { AccessTokens } from "./access-tokens.js";

export interface Identity {
  userId: string;
  timeZone: string;
  /** When the credential stops being valid (access tokens); undefined for non-expiring API tokens. */
  expiresAt?: Date;
}

/** Turns a bearer credential (access JWT or personal API token) into the caller's identity. */
export class Authenticator {
  constructor(
    private readonly tokens: AccessTokens,
    private readonly accounts: AccountStore,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** The identity, or UNAUTHENTICATED saying what is wrong with the credential. */
  async verify(token: string): Promise<Identity> {
    if (token.startsWith(API_TOKEN_PREFIX)) {
      const owner = await this.accounts.apiTokenUser(token, this.now());
      if (!owner) throw unauthenticated("API token unknown, revoked or expired");
      return owner;
    }
    const claims = await this.tokens.verify(token);
    if ("rejected" in claims) throw unauthenticated(claims.rejected);
    return claims;
  }

  /** From request headers: `authorization: Bearer <token>`. */
  async fromHeaders(headers: Headers): Promise<Identity> {
    const header = headers.get("authorization");
    if (!header) throw unauthenticated("missing credentials: send `authorization: Bearer <access or API token>`");
    const match = /^Bearer\s+(\S{1,4096})$/i.exec(header.trim());
    if (!match) throw unauthenticated("malformed authorization header: expected `Bearer <token>`");
    return this.verify(match[1]!);
  }
}

export function unauthenticated(message: string): ConnectError {
  return new ConnectError(message, Code.Unauthenticated);
}
