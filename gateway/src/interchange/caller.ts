import type { DescService } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type Client, type Transport } from "@connectrpc/connect";
import { ProjectService } from "@taskmesh/proto/taskmesh/projects/v1/project_service_pb.js";
import { RecurrenceService } from "@taskmesh/proto/taskmesh/recurrence/v1/recurrence_service_pb.js";
import { TaskService } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import { isTimeZone } from "@taskmesh/quick-add";
import type { Identity } from "../auth/index.js";
import { upstreamHeaders, type Upstream } from "../forward.js";

/** The services as one user: every call carries the same trusted identity headers as a forwarded call. */
export interface Caller {
  identity: Identity;
  tasks: Client<typeof TaskService>;
  projects: Client<typeof ProjectService>;
  recurrence: Client<typeof RecurrenceService>;
  /** The zone dates are read in: the client's x-time-zone, else the account's. */
  timeZone: string;
}

export function callerFor(upstreams: readonly Upstream[], identity: Identity, incoming: Headers = new Headers()): Caller {
  const zone = incoming.get("x-time-zone");
  if (zone && !isTimeZone(zone)) incoming.delete("x-time-zone");
  const headers = upstreamHeaders(incoming, identity);
  const client = <S extends DescService>(service: S) => createClient(service, withHeaders(upstreams.find((u) => u.services.includes(service))?.transport, service, headers));
  return {
    identity,
    tasks: client(TaskService),
    projects: client(ProjectService),
    recurrence: client(RecurrenceService),
    timeZone: headers.get("x-time-zone")!,
  };
}

function withHeaders(transport: Transport | undefined, service: DescService, headers: Headers): Transport {
  const merged = (init: ConstructorParameters<typeof Headers>[0]) => {
    const out = new Headers(init);
    headers.forEach((value, name) => out.set(name, value));
    return out;
  };
  const missing = () => Promise.reject(new ConnectError(`${service.typeName} is not reachable from this gateway`, Code.Unavailable));
  if (!transport) return { unary: missing, stream: missing };
  return {
    unary: (method, signal, timeoutMs, header, input, contextValues) => transport.unary(method, signal, timeoutMs, merged(header), input, contextValues),
    stream: (method, signal, timeoutMs, header, input, contextValues) => transport.stream(method, signal, timeoutMs, merged(header), input, contextValues),
  };
}
