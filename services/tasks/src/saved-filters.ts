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

export const MAX_SAVED_FILTERS = 100;

interface Row {
  id: string;
  name: string;
  query: string;
  created_at: Date;
}

const toProto = (r: Row) => create(SavedFilterSchema, { id: r.id, name: r.name, query: r.query, createTime: timestampFromDate(new Date(r.created_at)) });

export type SavedFilterMethod = "listSavedFilters" | "saveFilter" | "deleteSavedFilter";

export function savedFilterHandlers(db: Database): Pick<ServiceImpl<typeof TaskService>, SavedFilterMethod> {
  return {
    async listSavedFilters(_req, ctx) {
      const rows = await db.query<Row>(db.em(), `SELECT id::text AS id, name, query, created_at FROM tasks.saved_filters WHERE user_id = $1 ORDER BY created_at, id`, [requireUser(ctx)]);
      return { filters: rows.map(toProto) };
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
        const [count] = await db.query<{ n: number }>(em, `SELECT count(*)::int AS n FROM tasks.saved_filters WHERE user_id = $1 AND query <> $2`, [userId, query]);
        if ((count?.n ?? 0) >= MAX_SAVED_FILTERS) {
          throw invalidArgument([{ field: "query", ruleId: "query.max_saved", message: `${MAX_SAVED_FILTERS} saved filters at most: delete one first` }]);
        }
        const [row] = await db.query<Row>(
          em,
          `INSERT INTO tasks.saved_filters (id, user_id, name, query) VALUES ($1, $2, $3, $4)
           ON CONFLICT (user_id, query) DO UPDATE SET name = EXCLUDED.name
           RETURNING id::text AS id, name, query, created_at`,
          [randomUUID(), userId, name, query],
        );
        return row!;
      });
      return { filter: toProto(saved) };
    },

    async deleteSavedFilter(req, ctx) {
      const rows = await db.query(db.em(), `DELETE FROM tasks.saved_filters WHERE id = $1 AND user_id = $2 RETURNING id`, [req.id, requireUser(ctx)]);
      if (rows.length === 0) throw new ConnectError(`no saved filter ${req.id}`, Code.NotFound);
      return {};
    },
  };
}
