// The README's settings table is the one the deployables' schemas give.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "vitest";
import { README, settingsTable, withTable } from "../generate-settings-table.js";

test("the README's settings table is generated from the schemas", () => {
  const readme = readFileSync(README, "utf8");
  assert.equal(readme, withTable(readme, settingsTable()), "run `node --import tsx scripts/generate-settings-table.ts` and commit README.md");
});
