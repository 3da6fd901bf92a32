// `taskmesh mcp`: a desktop agent starts this as its stdio MCP server; every message goes on to the
// gateway's /mcp with the saved token, so the agent gets the same tools, checks and history as
// one connecting over HTTP (nothing of the tools runs here).
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { isJSONRPCRequest, isJSONRPCResultResponse, type JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";
import { MCP_PATH } from "@taskmesh/mcp";
import type { Login } from "./config.js";

export async function bridgeStdio(login: Login, log: (line: string) => void): Promise<void> {
  const local = new StdioServerTransport();
  const remote = new StreamableHTTPClientTransport(new URL(MCP_PATH, login.url), {
    requestInit: { headers: { authorization: `Bearer ${login.token}` } },
  });
  const done = new Promise<void>((resolve) => (local.onclose = resolve));
  const pending = new Set<Promise<void>>();
  local.onmessage = (message: JSONRPCMessage) => {
    const sent = remote.send(message).catch((err: unknown) => {
      const reason = err instanceof Error ? err.message : String(err);
      log(`taskmesh mcp: ${login.url}${MCP_PATH} failed: ${reason}`);
      // The agent waits for an answer to a request: it gets the reason instead of a hang.
      if (isJSONRPCRequest(message)) {
        const hint = /401|unauthorized/i.test(reason)
          ? " (the token was refused: run `taskmesh login` with a new one)"
          : /fetch failed|ECONNREFUSED/i.test(reason)
            ? " (is taskmesh running there?)"
            : "";
        void local.send({ jsonrpc: "2.0", id: message.id, error: { code: -32603, message: `taskmesh at ${login.url}: ${reason}${hint}` } });
      }
    });
    pending.add(sent);
    void sent.finally(() => pending.delete(sent));
  };
  // The agent closing our stdin is the end of the session: answers still on their way are delivered first.
  process.stdin.once("end", () => void Promise.allSettled([...pending]).then(() => local.close()));
  remote.onmessage = (message: JSONRPCMessage) => {
    // Later requests carry the negotiated version (MCP-Protocol-Version), as the SDK's client does.
    const version = isJSONRPCResultResponse(message) ? (message.result as { protocolVersion?: unknown }).protocolVersion : undefined;
    if (typeof version === "string") remote.setProtocolVersion(version);
    void local.send(message);
  };
  remote.onerror = (err) => log(`taskmesh mcp: ${err.message}`);
  await remote.start();
  await local.start();
  await done;
  await remote.close();
}
