// One JSON-RPC request answered by a server of its own. This module brings in the MCP SDK and the
// tools (with the SDK's JSON-schema validator, ajv); http.ts loads it with the first request to /mcp,
// so a process whose /mcp is never called does not hold them.
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import type http from "node:http";
import { createTaskmeshMcpServer, type TaskmeshBackend } from "./tools.js";

export async function answerMcpRequest(backend: TaskmeshBackend, req: http.IncomingMessage, res: http.ServerResponse, message: unknown): Promise<void> {
  const server = createTaskmeshMcpServer(backend);
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
  res.once("close", () => {
    void transport.close();
    void server.close();
  });
  await server.connect(transport);
  await transport.handleRequest(req, res, message);
}
