export { connectionBounds, DEFAULT_CONNECTION_BOUNDS, openDatabase } from "./database.js";
export type { ConnectionBounds, Database, DatabaseOptions, EntityManager, MigrationEntry } from "./database.js";
