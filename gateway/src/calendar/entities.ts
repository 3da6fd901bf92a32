import { defineEntity, p } from "@mikro-orm/core";
import { User } from "../auth/entities.js";

/** A calendar feed, fetched by its secret URL alone (only the hash is kept); project null: every task the user may see. */
export const CalendarFeed = defineEntity({
  name: "CalendarFeed",
  schema: "auth",
  tableName: "calendar_feeds",
  uniques: [
    { name: "calendar_feeds_secret_hash_key", properties: ["secretHash"] },
    {
      name: "calendar_feeds_live",
      expression: `CREATE UNIQUE INDEX calendar_feeds_live ON auth.calendar_feeds USING btree (user_id, COALESCE(project_id, '00000000-0000-0000-0000-000000000000'::uuid)) WHERE (revoked_at IS NULL)`,
    },
  ],
  properties: {
    id: p.uuid().primary(),
    user: () => p.manyToOne(User).ref().deleteRule("cascade").foreignKeyName("calendar_feeds_user_id_fkey"),
    projectId: p.uuid().strictNullable(),
    secretHash: p.blob(),
    createdAt: p.datetime().defaultRaw("now()"),
    revokedAt: p.datetime().strictNullable(),
  },
});
