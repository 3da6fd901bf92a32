export { connectionBounds, DEFAULT_CONNECTION_BOUNDS, openDatabase, sqlMigration } from "./database.js";
export type { ConnectionBounds, Database, DatabaseOptions, EntityManager, ListenOptions, InferKyselyDB, MigrationEntry } from "./database.js";
export { DEFAULT_PREPARE_THRESHOLD, PLANNED_EACH_CALL, prepareRepeatedStatements } from "./prepared-statements.js";
