export { openDatabase } from "./database.js";
export type { Database, DatabaseOptions, MigrationEntry } from "./database.js";
