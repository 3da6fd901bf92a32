export { connectionBounds, DEFAULT_CONNECTION_BOUNDS, openDatabase, sqlMigration } from "./database.js";
export type { ConnectionBounds, Database, DatabaseOptions, EntityManager, InferKyselyDB, MigrationEntry } from "./database.js";
