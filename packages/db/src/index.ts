export { openDatabase, parseDatabaseUrl } from "./database.js";
export type { Database, DatabaseOptions } from "./database.js";
