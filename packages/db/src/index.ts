export { connectionBounds, DEFAULT_CONNECTION_BOUNDS, openDatabase, sqlMigration } from "./database.js";
export type { ConnectionBounds, Database, DatabaseOptions, EntityManager, ListenOptions, InferKyselyDB, MigrationEntry } from "./database.js";
export { PLANNED_EACH_CALL } from "./prepared-statements.js";
