import { openDatabase } from "@taskmesh/db";
import type { HttpRoute, Logger } from "@taskmesh/kit";
import type { Authenticator } from "../auth/index.js";
import { CalendarFeedStore } from "../calendar/feed-store.js";
import type { Upstream } from "../forward.js";
import { entities, migrations } from "../migrations/index.js";
import { interchangeRoutes } from "./routes.js";

export { DEFAULT_MAX_IMPORT_BYTES } from "./routes.js";

export interface InterchangeModuleOptions {
  databaseUrl: string;
  authenticator: Authenticator;
  upstreams: readonly Upstream[];
  logger: Logger;
  maxImportBytes?: number;
}

/** Import, export and calendar feeds; the feeds' secrets live in the accounts schema beside API tokens. */
export async function startInterchangeModule(options: InterchangeModuleOptions): Promise<{ route: HttpRoute; stop(): Promise<void> }> {
  // The accounts module has migrated the schema already; this pool only reads and writes feeds.
  const db = await openDatabase({ url: options.databaseUrl, schema: "auth", entities, migrations, poolSize: 2 });
  return {
    route: interchangeRoutes({ ...options, feeds: new CalendarFeedStore(db) }),
    stop: () => db.close(),
  };
}
