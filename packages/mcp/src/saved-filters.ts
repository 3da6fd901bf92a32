// The user's saved filters as MCP resources: taskmesh://filters lists them, taskmesh://filters/{id}
// is one filter with the tasks it finds now, so an agent (or the user picking context in a client)
// reads "my Work this week" without knowing the filter language.
import { ErrorCode, McpError } from "@modelcontextprotocol/sdk/types.js";
import { ResourceTemplate, type McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { SavedFilter } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import type { ProjectNames } from "./project-names.js";
import { taskOut } from "./shapes.js";
import type { TaskmeshBackend } from "./tools.js";

export const FILTERS_URI = "taskmesh://filters";
/** Tasks a filter's resource holds; find_tasks with its query pages further. */
const FILTER_TASKS = 100;

export function registerSavedFilters(server: McpServer, backend: TaskmeshBackend, names: ProjectNames): void {
  const filters = async () => (await backend.tasks.listSavedFilters({})).filters;
  const summary = (f: SavedFilter) => ({ id: f.id, name: f.name, query: f.query, uri: `${FILTERS_URI}/${f.id}` });
  const json = (uri: URL | string, value: unknown) => ({ contents: [{ uri: String(uri), mimeType: "application/json", text: JSON.stringify(value) }] });

  server.registerResource(
    "saved-filters",
    FILTERS_URI,
    { title: "Saved filters", description: "The user's saved filters (name and filter-language query), as the web app's sidebar shows them", mimeType: "application/json" },
    async (uri) => json(uri, { filters: (await filters()).map(summary) }),
  );

  server.registerResource(
    "saved-filter",
    new ResourceTemplate(`${FILTERS_URI}/{id}`, {
      list: async () => ({
        resources: (await filters()).map((f) => ({ uri: `${FILTERS_URI}/${f.id}`, name: f.name, description: `Saved filter: ${f.query}`, mimeType: "application/json" })),
      }),
    }),
    { title: "A saved filter and its tasks", description: `One saved filter: its query, how it is understood, and the first ${FILTER_TASKS} tasks it finds`, mimeType: "application/json" },
    async (uri, { id }) => {
      const filter = (await filters()).find((f) => f.id === id);
      if (!filter) throw new McpError(ErrorCode.InvalidParams, `no saved filter ${String(id)}: read ${FILTERS_URI} for the list`);
      const page = await backend.tasks.listTasks({ query: filter.query, orderBy: "due", pageSize: FILTER_TASKS, explain: true });
      const named = await names.name({ content: [], structuredContent: { tasks: page.tasks.map(taskOut) } });
      return json(uri, {
        ...summary(filter),
        explanation: { normalizedQuery: page.explanation?.normalizedQuery ?? "", summary: page.explanation?.summary ?? "" },
        tasks: named.structuredContent!.tasks,
        ...(page.nextPageToken ? { more: `more tasks match: find_tasks with query ${JSON.stringify(filter.query)} pages through them` } : {}),
      });
    },
  );
}
