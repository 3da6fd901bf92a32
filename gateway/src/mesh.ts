import type { DescService } from "@bufbuild/protobuf";
import { createRouterTransport, type ConnectRouter, type Transport } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { createValidateInterceptor } from "@connectrpc/validate";
import { AuditService } from "@taskmesh/proto/taskmesh/audit/v1/audit_service_pb.js";
import { RecurrenceService } from "@taskmesh/proto/taskmesh/recurrence/v1/recurrence_service_pb.js";
import { TaskService } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import type { Upstream } from "./forward.js";

/** Every service of the mesh the gateway exposes, and the target (app id) that serves it. */
export const MESH_SERVICES: { service: DescService; target: string }[] = [
  { service: TaskService, target: "tasks" },
  { service: RecurrenceService, target: "recurrence" },
  { service: AuditService, target: "audit" },
];

/**
 * Cluster mode: each target at `<TARGET>_URL` (TASKS_URL, RECURRENCE_URL, …), called over gRPC.
 * A target without a URL is left out (the caller says so).
 */
export function clusterUpstreams(env: NodeJS.ProcessEnv): { upstreams: Upstream[]; missing: string[] } {
  const byTarget = new Map<string, DescService[]>();
  for (const { service, target } of MESH_SERVICES) byTarget.set(target, [...(byTarget.get(target) ?? []), service]);
  const upstreams: Upstream[] = [];
  const missing: string[] = [];
  for (const [target, services] of byTarget) {
    const url = env[`${target.toUpperCase()}_URL`];
    if (url) upstreams.push({ services, transport: transportTo(url) });
    else missing.push(`${target.toUpperCase()}_URL`);
  }
  return { upstreams, missing };
}

/** The one place that picks how the gateway reaches a service in cluster mode. */
function transportTo(baseUrl: string): Transport {
  return createGrpcTransport({ baseUrl });
}

/**
 * Embedded mode: a module mounted in this process, called without a network hop but through
 * validation, as it would be over the network.
 */
export function inProcessUpstream(module: { services: DescService[]; routes: (router: ConnectRouter) => void }): Upstream {
  return { services: module.services, transport: createRouterTransport(module.routes, { router: { interceptors: [createValidateInterceptor()] } }) };
}
