import { openDatabase, type Database, type DatabaseOptions } from "@taskmesh/db";
import { freshDatabase } from "./index.js";

/** How an owner's tables differ from its entities right after its migrations ran on a new database. */
export async function driftAfterMigrations(options: Omit<DatabaseOptions, "url">): Promise<string[]> {
  const fresh = await freshDatabase();
  const db = await openDatabase({ url: fresh.url, ...options });
  try {
    return await schemaDrift(db);
  } finally {
    await db.close();
    await fresh.drop();
  }
}

/**
 * How the database differs from the registered entities, one entry per difference: none when the
 * migrations and the entities agree. Most entries are the statements MikroORM's schema generator
 * would run; it compares indexes written as an `expression` by name only and ignores columns'
 * collations, so those two are compared here, against what PostgreSQL prints back.
 */
export async function schemaDrift(db: Database): Promise<string[]> {
  const em = db.em();
  const query = <Row>(sql: string, params: unknown[]) => db.query<Row>(em, sql, params);
  const defaultSchema = db.orm.config.get("schema");
  // Limited to the owner's schema: the other owners' tables may share the database.
  const generated = await db.orm.schema.getUpdateSchemaSQL({ wrap: false, schema: defaultSchema });
  const drift = generated.split("\n").filter((line) => line.trim() !== "");
  const oneLine = (sql: string) => sql.replace(/\s+/g, " ").replace(/\( /g, "(").replace(/ \)/g, ")").trim();
  const tables = [...db.orm.getMetadata().getAll().values()].filter((meta) => !meta.embeddable && !meta.virtual);
  for (const meta of tables) {
    const schema = meta.schema ?? defaultSchema;
    for (const index of [...meta.indexes, ...meta.uniques]) {
      if (typeof index.expression !== "string") continue;
      const [found] = await query<{ indexdef: string }>(`SELECT indexdef FROM pg_indexes WHERE schemaname = $1 AND indexname = $2`, [schema, index.name]);
      const actual = found && oneLine(found.indexdef);
      if (actual !== oneLine(index.expression)) drift.push(`index ${schema}.${index.name}: the database has ${actual ?? "none"}`);
    }
    const collated = await query<{ column: string; collation: string }>(
      `SELECT column_name AS column, collation_name AS collation FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 AND collation_name IS NOT NULL`,
      [schema, meta.collection],
    );
    const inDatabase = new Map(collated.map((c) => [c.column, c.collation]));
    for (const prop of meta.props) {
      for (const column of prop.fieldNames ?? []) {
        const collation = inDatabase.get(column);
        inDatabase.delete(column);
        if (collation !== prop.collation) drift.push(`column ${schema}.${meta.collection}.${column}: the database has collation ${collation ?? "default"}`);
      }
    }
    for (const [column, collation] of inDatabase) drift.push(`column ${schema}.${meta.collection}.${column}: the database has collation ${collation}, no entity property`);
  }
  return drift;
}
