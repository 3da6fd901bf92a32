import type { Client } from "@connectrpc/connect";
import { ProjectService } from "@taskmesh/proto/taskmesh/projects/v1/project_service_pb.js";
import { RecurrenceService } from "@taskmesh/proto/taskmesh/recurrence/v1/recurrence_service_pb.js";
import { TaskService } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import type { Identity } from "../auth/index.js";
import { callerClients } from "../caller-transport.js";
import type { Upstream } from "../forward.js";

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
  const { client, timeZone } = callerClients(upstreams, identity, incoming);
  return { identity, tasks: client(TaskService), projects: client(ProjectService), recurrence: client(RecurrenceService), timeZone };
}
