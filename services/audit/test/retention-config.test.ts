import { test } from "node:test";
import assert from "node:assert/strict";
import { retentionDaysFromEnv } from "../src/retention.js";

test("AUDIT_RETENTION_DAYS: unset is the default, whole days are taken, anything else is refused with the rule", () => {
  assert.equal(retentionDaysFromEnv({}), undefined);
  assert.equal(retentionDaysFromEnv({ AUDIT_RETENTION_DAYS: "" }), undefined);
  assert.equal(retentionDaysFromEnv({ AUDIT_RETENTION_DAYS: "30" }), 30);
  for (const bad of ["0", "-5", "1.5", "ninety", "36501"]) {
    assert.throws(() => retentionDaysFromEnv({ AUDIT_RETENTION_DAYS: bad }), /whole number of days from 1 to 36500/);
  }
});
