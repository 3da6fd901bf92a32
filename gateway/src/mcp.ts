import { DEVICE_HEADER, type HttpRoute } from "@taskmesh/kit";
import { mcpRoute } from "@taskmesh/mcp";
import { AuditService } from "@taskmesh/proto/taskmesh/audit/v1/audit_service_pb.js";
import { ProjectService } from "@taskmesh/proto/taskmesh/projects/v1/project_service_pb.js";
import { RecurrenceService } from "@taskmesh/proto/taskmesh/recurrence/v1/recurrence_service_pb.js";
import { ReminderService } from "@taskmesh/proto/taskmesh/reminders/v1/reminder_service_pb.js";
import { TaskService } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import type { AccountStore } from "./auth/account-store.js";
import type { Authenticator } from "./auth/index.js";
import { callerClients } from "./caller-transport.js";
import type { Upstream } from "./forward.js";

// What the activity history shows as the device of an agent's changes, unless the client names one.
const MCP_DEVICE = "mcp";

/**
 * /mcp: the MCP tools, authenticated like every API call (access or API token) and calling the
 * services through the same upstreams, with the same trusted identity headers, as forwarded calls;
 * and the OAuth endpoints through which an MCP client gets an API token with the user's consent.
 */
export function mcpEndpoint(authenticator: Authenticator, accounts: AccountStore, upstreams: Upstream[], allowedOrigins: readonly string[], secret: Uint8Array): HttpRoute {
  return mcpRoute({
    allowedOrigins,
    oauth: {
      secret,
      userOf: async (headers) => (await authenticator.fromHeaders(headers)).userId,
      async userOfToken(token) {
        // Only a personal API token is handed to a client: an access token would stop working within minutes.
        if (!token.startsWith("tm_pat_")) throw new Error("not a personal API token");
        const identity = await authenticator.verify(token);
        // The tools read and write tasks; an agent never needs to make or revoke tokens.
        if (identity.scopes.includes("tokens")) throw new Error("an MCP client's token must not have the tokens scope");
        return identity.userId;
      },
      revokeToken: (token) => accounts.revokeApiTokenBySecret(token, new Date()),
    },
    async authenticate(headers) {
      const identity = await authenticator.fromHeaders(headers);
      if (!headers.has(DEVICE_HEADER)) headers.set(DEVICE_HEADER, MCP_DEVICE);
      const { client, timeZone } = callerClients(upstreams, identity, headers);
      return {
        tasks: client(TaskService),
        audit: client(AuditService),
        reminders: client(ReminderService),
        recurrence: client(RecurrenceService),
        projects: client(ProjectService),
        timeZone,
        userId: identity.userId,
      };
    },
  });
}
