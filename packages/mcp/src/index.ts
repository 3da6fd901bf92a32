// The tools and the MCP SDK are not among these: /mcp loads them with its first request (answer.ts).
export type { TaskmeshBackend } from "./tools.js";
export { mcpRoute, MCP_PATH, PROTECTED_RESOURCE_METADATA_PATH, type McpRouteOptions } from "./http.js";
export { AUTHORIZE_PATH, type OAuthOptions } from "./oauth.js";
