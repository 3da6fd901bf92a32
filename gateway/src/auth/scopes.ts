import type { DescMethod } from "@bufbuild/protobuf";
import { MethodOptions_IdempotencyLevel } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { ApiTokenScope } from "@taskmesh/proto/taskmesh/auth/v1/auth_service_pb.js";

export type Scope = "read" | "write" | "tokens";
export const ALL_SCOPES: readonly Scope[] = ["read", "write", "tokens"];
/** What a token made without naming scopes may do: the API, not token management. */
export const DEFAULT_SCOPES: readonly Scope[] = ["read", "write"];

const TOKEN_METHODS = new Set(["CreateApiToken", "ListApiTokens", "RevokeApiToken"]);

/** The scope a call needs: token management, else read for methods without side effects, else write. */
export function requiredScope(method: Pick<DescMethod, "name" | "idempotency" | "parent">): Scope {
  if (method.parent.typeName === "taskmesh.auth.v1.AuthService" && TOKEN_METHODS.has(method.name)) return "tokens";
  return method.idempotency === MethodOptions_IdempotencyLevel.NO_SIDE_EFFECTS ? "read" : "write";
}

/** PERMISSION_DENIED unless `scopes` hold `needed`. */
export function checkScope(scopes: readonly Scope[], needed: Scope, what: string): void {
  if (!scopes.includes(needed)) {
    throw new ConnectError(`this API token lacks the ${needed} scope needed for ${what}: create one with it (CreateApiToken scopes)`, Code.PermissionDenied);
  }
}

export function scopeFromProto(scope: ApiTokenScope): Scope {
  return scope === ApiTokenScope.READ ? "read" : scope === ApiTokenScope.WRITE ? "write" : "tokens";
}

export function scopeToProto(scope: Scope): ApiTokenScope {
  return scope === "read" ? ApiTokenScope.READ : scope === "write" ? ApiTokenScope.WRITE : ApiTokenScope.TOKENS;
}
