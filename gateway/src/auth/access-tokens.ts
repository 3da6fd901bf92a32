import { errors, jwtVerify, SignJWT } from "jose";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

const ISSUER = "taskmesh";
const AUDIENCE = "taskmesh";
/** Short-lived: a stolen access token is useful for minutes; the refresh cookie renews it. */
export const ACCESS_TOKEN_TTL_SECONDS = 15 * 60;

export interface AccessClaims {
  userId: string;
  /** The account's IANA time zone, so forwarding needs no account lookup. */
  timeZone: string;
  expiresAt: Date;
  /** The account's session epoch when issued: signing out everywhere moves it on, ending older tokens. */
  epoch: number;
  /** The account's e-mail when issued (project invitations are addressed to it); empty in older tokens. */
  email: string;
}

// Verifying a token took ~45 µs of CPU and a trip through libuv's thread pool (WebCrypto's HMAC),
// on every call of a signed-in browser. A token's signature and claims never change, so once it
// verified, only its expiry can end it: that is checked at each use, as jose checks it.
const VERIFIED_MAX = 5_000;

/** Signs and verifies HS256 access tokens. Only HS256 is accepted: `alg: none` and others fail. */
export class AccessTokens {
  readonly #key: Uint8Array;
  readonly #verified = new Map<string, AccessClaims>();

  constructor(secret: Uint8Array) {
    if (secret.length < 32) throw new Error("the JWT secret must be at least 32 bytes");
    this.#key = secret;
  }

  async issue(userId: string, timeZone: string, now = new Date(), epoch = 0, email = ""): Promise<{ token: string; expiresAt: Date }> {
    const iat = Math.floor(now.getTime() / 1000);
    const exp = iat + ACCESS_TOKEN_TTL_SECONDS;
    const token = await new SignJWT({ tz: timeZone, se: epoch, em: email })
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setSubject(userId)
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt(iat)
      .setExpirationTime(exp)
      .sign(this.#key);
    return { token, expiresAt: new Date(exp * 1000) };
  }

  /** The claims, or a reason the token is not acceptable. */
  async verify(token: string): Promise<AccessClaims | { rejected: string }> {
    const known = this.#verified.get(token);
    if (known) {
      if (known.expiresAt.getTime() > Date.now()) return known;
      this.#verified.delete(token);
    }
    try {
      const { payload } = await jwtVerify(token, this.#key, { algorithms: ["HS256"], issuer: ISSUER, audience: AUDIENCE, requiredClaims: ["sub", "exp"] });
      const claims: AccessClaims = {
        userId: payload.sub!,
        timeZone: typeof payload.tz === "string" ? payload.tz : "UTC",
        expiresAt: new Date(payload.exp! * 1000),
        epoch: typeof payload.se === "number" ? payload.se : 0,
        email: typeof payload.em === "string" ? payload.em : "",
      };
      if (this.#verified.size >= VERIFIED_MAX) this.#verified.delete(this.#verified.keys().next().value!);
      this.#verified.set(token, claims);
      return claims;
    } catch (err) {
      if (err instanceof errors.JWTExpired) return { rejected: "access token expired: refresh it" };
      return { rejected: "invalid access token" };
    }
  }
}

/**
 * The signing secret: the configured one (TASKMESH_JWT_SECRET), else one generated on first start
 * and kept in the data folder (embedded mode), so sessions survive restarts.
 */
export function jwtSecret(configured: Uint8Array | undefined, dataDir: string): Uint8Array {
  if (configured) return configured;
  const file = path.join(dataDir, "jwt-secret");
  if (!existsSync(file)) {
    mkdirSync(dataDir, { recursive: true });
    // "wx": two processes starting at once cannot overwrite each other's key.
    try {
      writeFileSync(file, randomBytes(48).toString("base64url"), { mode: 0o600, flag: "wx" });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
  }
  return Buffer.from(readFileSync(file, "utf8").trim(), "utf8");
}
