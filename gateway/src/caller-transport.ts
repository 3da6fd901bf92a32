import type { DescMethod, DescService } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type Client, type Transport } from "@connectrpc/connect";
import { isTimeZone, TIME_ZONE_HEADER } from "@taskmesh/kit";
import type { Identity } from "./auth/index.js";
import { checkScope, requiredScope, type Scope } from "./auth/scopes.js";
import { upstreamHeaders, type Upstream } from "./forward.js";

/**
 * Clients of the services as `identity`, for a request that came with `incoming` headers: their
 * calls carry the trusted identity, and the client's time zone unless it is none (then the
 * account's). `timeZone`: the zone those calls read dates in.
 */
export function callerClients(upstreams: readonly Upstream[], identity: Identity, incoming: Headers) {
  const zone = incoming.get(TIME_ZONE_HEADER);
  if (zone && !isTimeZone(zone)) incoming.delete(TIME_ZONE_HEADER);
  const headers = upstreamHeaders(incoming, identity);
  return {
    client: <S extends DescService>(service: S): Client<S> => createClient(service, callerTransport(upstreams, service, headers, identity.scopes)),
    timeZone: headers.get(TIME_ZONE_HEADER)!,
  };
}

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
