// The drift check is what every owner's entity test relies on: it must see each kind of disagreement.
import { test } from "vitest";
import assert from "node:assert/strict";
import { defineEntity, p } from "@mikro-orm/core";
import { Migration } from "@mikro-orm/migrations";
import type { MigrationEntry } from "@taskmesh/db";
import { driftAfterMigrations } from "../src/schema-drift.js";

const Note = defineEntity({
  name: "Note",
  schema: "drift",
  tableName: "notes",
  indexes: [{ name: "notes_by_title", expression: "CREATE INDEX notes_by_title ON drift.notes USING btree (lower(title))" }],
  properties: {
    id: p.uuid().primary(),
    title: p.text(),
    sortKey: p.text().collation("C"),
  },
});

function migration(name: string, statements: string[]): MigrationEntry {
  class Step extends Migration {
    override name = name;
    override up(): void {
      for (const sql of statements) this.addSql(sql);
    }
  }
  return { name, class: Step };
}

const driftAfter = (migrations: MigrationEntry[]) => driftAfterMigrations({ schema: "drift", entities: [Note], migrations });

const notes = migration("Migration1_notes", [
  `CREATE TABLE drift.notes (id uuid PRIMARY KEY, title text NOT NULL, sort_key text COLLATE "C" NOT NULL)`,
  `CREATE INDEX notes_by_title ON drift.notes (lower(title))`,
]);

test("migrations that build what the entities describe leave no drift", async () => {
  assert.deepEqual(await driftAfter([notes]), []);
});

test("a column a migration adds without an entity property is drift", async () => {
  const drift = await driftAfter([notes, migration("Migration2_body", [`ALTER TABLE drift.notes ADD COLUMN body text`])]);
  assert.deepEqual(drift, [`alter table "drift"."notes" drop column "body";`]);
});

test("a table no entity describes, a missing column, another index expression or collation are drift", async () => {
  const drift = await driftAfter([
    migration("Migration1_notes", [
      `CREATE TABLE drift.notes (id uuid PRIMARY KEY, sort_key text NOT NULL)`,
      `CREATE INDEX notes_by_title ON drift.notes (upper(sort_key))`,
      `CREATE TABLE drift.stray (id uuid PRIMARY KEY)`,
    ]),
  ]);
  assert.ok(
    drift.some((s) => /drop table .*"drift"\."stray"/.test(s)),
    drift.join("\n"),
  );
  assert.ok(
    drift.some((s) => /alter table "drift"\."notes" add "title" text not null/.test(s)),
    drift.join("\n"),
  );
  assert.ok(drift.includes("index drift.notes_by_title: the database has CREATE INDEX notes_by_title ON drift.notes USING btree (upper(sort_key))"), drift.join("\n"));
  assert.ok(drift.includes("column drift.notes.sort_key: the database has collation default"), drift.join("\n"));
});
