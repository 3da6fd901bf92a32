export { openDatabase } from "./database.js";
export type { Database, DatabaseOptions, EntityManager, MigrationEntry } from "./database.js";
