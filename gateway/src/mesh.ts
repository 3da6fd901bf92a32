import type { DescService } from "@bufbuild/protobuf";
import type { ConnectRouter } from "@connectrpc/connect";
import { createValidateInterceptor } from "@connectrpc/validate";
import { createLogger, fieldPathsInterceptor, internalErrorInterceptor, reaches, rpcClientTracing, rpcServerTracing, urlVariable, type ClusterTransport, type Logger } from "@taskmesh/kit";
import { AuditService } from "@taskmesh/proto/taskmesh/audit/v1/audit_service_pb.js";
import { RecurrenceService } from "@taskmesh/proto/taskmesh/recurrence/v1/recurrence_service_pb.js";
import { ProjectService } from "@taskmesh/proto/taskmesh/projects/v1/project_service_pb.js";
import { ReminderService } from "@taskmesh/proto/taskmesh/reminders/v1/reminder_service_pb.js";
import { TaskService } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import { inProcessTransport, serviceTransport } from "@taskmesh/transport";
import type { Upstream } from "./forward.js";

/** Every service of the mesh the gateway exposes, and the target (app id) that serves it. */
export const MESH_SERVICES: { service: DescService; target: string }[] = [
  { service: TaskService, target: "tasks" },
  { service: ProjectService, target: "tasks" },
  { service: RecurrenceService, target: "recurrence" },
  { service: AuditService, target: "audit" },
  { service: ReminderService, target: "reminders" },
];

/**
 * Cluster mode: each target through the configured transport: its Dapr sidecar (app id = target),
 * or directly at `<TARGET>_URL`. Without a sidecar, a target without a URL is left out (the caller
 * says so).
 */
export function clusterUpstreams(transport: ClusterTransport): { upstreams: Upstream[]; missing: string[] } {
  const byTarget = new Map<string, DescService[]>();
  for (const { service, target } of MESH_SERVICES) byTarget.set(target, [...(byTarget.get(target) ?? []), service]);
  const upstreams: Upstream[] = [];
  const missing: string[] = [];
  for (const [target, services] of byTarget) {
    if (reaches(transport, target)) upstreams.push({ services, transport: serviceTransport(transport, target) });
    else missing.push(urlVariable(target));
  }
  return { upstreams, missing };
}

/**
 * Embedded mode: a module mounted in this process, called without a network hop and without
 * encoding messages, but through validation, as it would be over the network.
 */
export function inProcessUpstream(module: { services: DescService[]; routes: (router: ConnectRouter) => void; logger?: Logger }): Upstream {
  const logger = module.logger ?? meshLogger();
  // Errors of the module are logged here, with their stack and an id the caller sees, as the
  // module's own server logs them.
  const interceptors = [rpcClientTracing(), rpcServerTracing(), internalErrorInterceptor(logger), fieldPathsInterceptor(), createValidateInterceptor()];
  return { services: module.services, transport: inProcessTransport(module.routes, { interceptors }) };
}

let defaultLogger: Logger | undefined;
const meshLogger = () => (defaultLogger ??= createLogger("mesh"));
