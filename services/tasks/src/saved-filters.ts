// Saved filters: a user's filter-language queries with a name, stored here so every device lists
// the same ones.
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import { FilterSyntaxError, parseFilter } from "@taskmesh/filter";
import { invalidArgument, requireUser } from "@taskmesh/kit";
import { SavedFilterSchema, type TaskService } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import type { SavedFilter } from "./entities.js";
import type { SavedFilterStore } from "./saved-filter-store.js";

export const MAX_SAVED_FILTERS = 100;

const toProto = (f: SavedFilter) => create(SavedFilterSchema, { id: f.id, name: f.name, query: f.query, createTime: timestampFromDate(f.createdAt) });

export type SavedFilterMethod = "listSavedFilters" | "saveFilter" | "deleteSavedFilter";

export function savedFilterHandlers(store: SavedFilterStore): Pick<ServiceImpl<typeof TaskService>, SavedFilterMethod> {
  return {
    async listSavedFilters(_req, ctx) {
      const saved = await store.list(requireUser(ctx));
      return { filters: saved.map(toProto) };
    },

    async saveFilter(req, ctx) {
      const userId = requireUser(ctx);
      const query = req.query.trim();
      try {
        parseFilter(query);
      } catch (err) {
        if (!(err instanceof FilterSyntaxError)) throw err;
        throw invalidArgument([{ field: "query", ruleId: "query.filter", message: `${err.message} (at ${err.position + 1})` }]);
      }
      const name = req.name.trim() || query;
      const saved = await store.save(userId, name, query, MAX_SAVED_FILTERS);
      if (!saved) {
        throw invalidArgument([{ field: "query", ruleId: "query.max_saved", message: `${MAX_SAVED_FILTERS} saved filters at most: delete one first` }]);
      }
      return { filter: toProto(saved) };
    },

    async deleteSavedFilter(req, ctx) {
      if (!(await store.delete(requireUser(ctx), req.id))) throw new ConnectError(`no saved filter ${req.id}`, Code.NotFound);
      return {};
    },
  };
}
