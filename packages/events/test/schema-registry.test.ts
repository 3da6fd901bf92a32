// Schema registration against the real registry (Apicurio, Confluent API) as a cluster's services
// and replicas do it on a first install: all at once, on subjects none of them made yet.
import { test } from "vitest";
import assert from "node:assert/strict";
import { confluentSchemaRegistry, registerSchemas } from "../src/index.js";
import { freshTopics, requireEnv } from "./fixtures.js";

const registry = confluentSchemaRegistry(requireEnv("TASKMESH_TEST_SCHEMA_REGISTRY_URL"));

test("services starting at once register the same new subjects without refusing each other, and get the same ids", async () => {
  for (let round = 0; round < 3; round++) {
    const t = freshTopics();
    const all = await Promise.all(Array.from({ length: 6 }, () => registerSchemas({ registry, topics: t.table })));
    for (const ids of all) assert.deepEqual(ids, all[0]);
  }
});
