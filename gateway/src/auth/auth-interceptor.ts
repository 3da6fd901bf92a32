import { createContextKey, type HandlerContext, type Interceptor } from "@connectrpc/connect";
import type { Authenticator, Identity } from "./authenticator.js";
import { unauthenticated } from "./authenticator.js";
import { checkScope, requiredScope } from "./scopes.js";

export const kIdentity = createContextKey<Identity | undefined>(undefined, { description: "authenticated caller" });

/** Calls anyone may make: getting credentials, and the probes tools and load balancers use. */
export function isPublic(service: string, method: string): boolean {
  if (service === "taskmesh.auth.v1.AuthService") return ["SignUp", "SignIn", "Refresh", "SignOut", "VerifyEmail", "RequestPasswordReset", "ResetPassword"].includes(method);
  return service === "grpc.health.v1.Health" || service.startsWith("grpc.reflection.");
}

/**
 * Authenticates every non-public call before anything else looks at it (validation included),
 * checks the credential's scope for the method, and hands the identity to the handler.
 * Unauthenticated calls and calls outside the token's scopes end here.
 */
export function authInterceptor(authenticator: Authenticator): Interceptor {
  return (next) => async (req) => {
    if (!isPublic(req.service.typeName, req.method.name)) {
      const identity = await authenticator.fromHeaders(req.header);
      checkScope(identity.scopes, requiredScope(req.method), `${req.service.typeName}/${req.method.name}`);
      req.contextValues.set(kIdentity, identity);
    }
    return next(req);
  };
}

/** The caller's identity inside a handler of an authenticated method. */
export function callerOf(ctx: HandlerContext): Identity {
  const identity = ctx.values.get(kIdentity);
  // Only reachable if a method were registered as public by mistake: fail closed.
  if (!identity) throw unauthenticated("missing credentials: send `authorization: Bearer <access or API token>`");
  return identity;
}
