export { openDatabase, parseDatabaseUrl } from "./database.js";
export type { Database, DatabaseOptions, MigrationEntry } from "./database.js";
