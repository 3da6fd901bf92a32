// Credentials through daprd's secrets API (the local stack's file store; the chart's Kubernetes
// store answers the same request the same way), or from the environment without a sidecar.
import { afterAll, beforeAll, describe, test } from "vitest";
import assert from "node:assert/strict";
import { startTestMesh, type DaprMesh, type Sidecar } from "@taskmesh/testing/infra";
import { defineConfig, resolveSecrets, secretsSettings, type Env } from "../src/index.js";

// As runService does: the secrets piece read from the same variables.
const schema = defineConfig("secrets-test", { secrets: secretsSettings });
const resolve = (env: Env, options?: { timeoutMs: number }) => resolveSecrets(schema.parse(env).secrets, env, options);

describe("secrets", () => {
  let mesh: DaprMesh;
  let sidecar: Sidecar;
  beforeAll(async () => {
    mesh = await startTestMesh({ secrets: { DATABASE_URL: "postgres://svc:pw@db:5432/taskmesh", TASKMESH_JWT_SECRET: "from-the-store" } });
    sidecar = await mesh.sidecar({ appId: "secrets-reader" });
  });
  afterAll(() => mesh?.stop());

  test("with a sidecar, every key of the secret becomes a variable", async () => {
    const env = await resolve({ DAPR_HTTP_PORT: String(sidecar.httpPort), PORT: "8081" });
    assert.equal(env.DATABASE_URL, "postgres://svc:pw@db:5432/taskmesh");
    assert.equal(env.TASKMESH_JWT_SECRET, "from-the-store");
    assert.equal(env.PORT, "8081");
  });

  test("an explicit environment value overrides the store", async () => {
    const env = await resolve({ DAPR_HTTP_PORT: String(sidecar.httpPort), DATABASE_URL: "postgres://override/db" });
    assert.equal(env.DATABASE_URL, "postgres://override/db");
    assert.equal(env.TASKMESH_JWT_SECRET, "from-the-store");
  });

  test("a missing store or secret is a clear error naming it", async () => {
    await assert.rejects(resolve({ DAPR_HTTP_PORT: String(sidecar.httpPort), TASKMESH_SECRET_STORE: "nope" }), /store "nope"/);
    await assert.rejects(resolve({ DAPR_HTTP_PORT: String(sidecar.httpPort), TASKMESH_SECRET_NAME: "other" }), /secret "other"/);
  });

  test("without a sidecar the environment is used as is", async () => {
    const env = { DATABASE_URL: "postgres://taskmesh@localhost:5432/taskmesh" };
    assert.equal(await resolve(env), env);
    await assert.rejects(resolve({ TASKMESH_SECRETS: "dapr", DAPR_HTTP_PORT: "1" }, { timeoutMs: 500 }), /sidecar .* not ready/);
  });
});
