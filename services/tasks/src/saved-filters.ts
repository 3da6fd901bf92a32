// Saved filters: a user's filter-language queries with a name, stored here so every device lists
// the same ones.
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import type { Database } from "@taskmesh/db";
import { FilterSyntaxError, parseFilter } from "@taskmesh/filter";
import { invalidArgument, requireUser } from "@taskmesh/kit";
import { SavedFilterSchema, type TaskService } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import { randomUUID } from "node:crypto";
import { SavedFilter } from "./entities.js";

export const MAX_SAVED_FILTERS = 100;

const toProto = (f: SavedFilter) => create(SavedFilterSchema, { id: f.id, name: f.name, query: f.query, createTime: timestampFromDate(f.createdAt) });

export type SavedFilterMethod = "listSavedFilters" | "saveFilter" | "deleteSavedFilter";

export function savedFilterHandlers(db: Database): Pick<ServiceImpl<typeof TaskService>, SavedFilterMethod> {
  return {
    async listSavedFilters(_req, ctx) {
      const saved = await db.em().find(SavedFilter, { userId: requireUser(ctx) }, { orderBy: { createdAt: "asc", id: "asc" } });
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
      const saved = await db.em().transactional(async (em) => {
        // One user's saves take turns, so the count below holds until the insert.
        await db.query(em, `SELECT pg_advisory_xact_lock(hashtext($1))`, [`tasks.saved_filters:${userId}`]);
        if ((await em.count(SavedFilter, { userId, query: { $ne: query } })) >= MAX_SAVED_FILTERS) {
          throw invalidArgument([{ field: "query", ruleId: "query.max_saved", message: `${MAX_SAVED_FILTERS} saved filters at most: delete one first` }]);
        }
        return em.upsert(SavedFilter, { id: randomUUID(), userId, name, query }, { onConflictFields: ["userId", "query"], onConflictMergeFields: ["name"] });
      });
      return { filter: toProto(saved) };
    },

    async deleteSavedFilter(req, ctx) {
      const deleted = await db.em().nativeDelete(SavedFilter, { id: req.id, userId: requireUser(ctx) });
      if (deleted === 0) throw new ConnectError(`no saved filter ${req.id}`, Code.NotFound);
      return {};
    },
  };
}
