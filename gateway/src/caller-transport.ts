import type { DescMethod, DescService } from "@bufbuild/protobuf";
import { Code, ConnectError, type Transport } from "@connectrpc/connect";
import { checkScope, requiredScope, type Scope } from "./auth/scopes.js";
import type { Upstream } from "./forward.js";

/**
 * The transport to `service` for calls the gateway makes itself on a user's behalf (MCP tools,
 * imports, calendar feeds): every call carries `headers` (the caller's trusted identity) and needs
 * its scope, as through the API.
 */
export function callerTransport(upstreams: readonly Upstream[], service: DescService, headers: Headers, scopes: readonly Scope[]): Transport {
  const transport = upstreams.find((u) => u.services.includes(service))?.transport;
  const merged = (init: ConstructorParameters<typeof Headers>[0]) => {
    const out = new Headers(init);
    headers.forEach((value, name) => {
      out.set(name, value);
    });
    return out;
  };
  const missing = () => Promise.reject(new ConnectError(`${service.typeName} is not reachable from this gateway`, Code.Unavailable));
  if (!transport) return { unary: missing, stream: missing };
  const allowed = (method: DescMethod) => checkScope(scopes, requiredScope(method), `${service.typeName}/${method.name}`);
  return {
    unary: async (method, signal, timeoutMs, header, input, contextValues) => {
      allowed(method);
      return transport.unary(method, signal, timeoutMs, merged(header), input, contextValues);
    },
    stream: async (method, signal, timeoutMs, header, input, contextValues) => {
      allowed(method);
      return transport.stream(method, signal, timeoutMs, merged(header), input, contextValues);
    },
  };
}
