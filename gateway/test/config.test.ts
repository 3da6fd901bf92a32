import { test } from "vitest";
import assert from "node:assert/strict";
import { gatewayConfig } from "../src/config.js";

const required = { DATABASE_URL: "postgres://gateway@db:5432/taskmesh", TASKMESH_JWT_SECRET: "s".repeat(32), TASKS_URL: "http://tasks:8081" };

test("the gateway's settings: the edge, the replica, the mesh", () => {
  const config = gatewayConfig.parse({ ...required, TASKMESH_CORS_ORIGINS: "https://app.example.com", TASKMESH_COOKIE_SECURE: "1", METRICS_PORT: "9464", GATEWAY_REPLICA_ID: "gw-1" });
  assert.deepEqual(config.edge.allowedOrigins, ["https://app.example.com"]);
  assert.equal(config.edge.secureCookie, true);
  assert.equal(config.edge.metricsPort, 9464);
  assert.equal(config.edge.allowedHosts, "any");
  assert.deepEqual(config.edge.passwordQueue, { concurrency: undefined, maxQueued: 16 });
  assert.equal(config.gateway.replicaId, "gw-1");
  assert.deepEqual(config.transport, { mode: "direct", urls: { tasks: "http://tasks:8081" } });
});

test("every problem at once: bad values, missing required ones, rules across variables", () => {
  assert.deepEqual(
    gatewayConfig.check({
      TASKMESH_TRANSPORT: "direct",
      TASKMESH_CORS_ORIGINS: "https://app.example.com/path",
      TASKMESH_TRUSTED_PROXIES: "10.0.0.0/33",
      SMTP_URL: "smtp://mail:587",
      TASKMESH_PASSWORD_HASH_QUEUE: "-1",
    }).problems,
    [
      "DATABASE_URL: not set; expected a URL (postgres or postgresql), e.g. postgres://user@host:5432/db",
      'TASKMESH_PASSWORD_HASH_QUEUE: expected a whole number from 0 to 100000, got "-1"',
      "TASKMESH_JWT_SECRET: not set; expected a random string of at least 32 bytes (e.g. `openssl rand -base64 48`)",
      "TASKS_URL: not set; the gateway needs the task service (e.g. http://tasks:8080), or run beside a Dapr sidecar",
    ],
  );
  assert.deepEqual(gatewayConfig.check({ ...required, TASKMESH_CORS_ORIGINS: "https://app.example.com/path", TASKMESH_TRUSTED_PROXIES: "10.0.0.0/33", SMTP_URL: "smtp://mail:587" }).problems, [
    'TASKMESH_CORS_ORIGINS: "https://app.example.com/path" is not an origin (scheme://host[:port], no path, no wildcard)',
    'TASKMESH_TRUSTED_PROXIES: "10.0.0.0/33" is not an address or CIDR (e.g. 10.0.0.0/8, fd00::/8, 127.0.0.1)',
    "TASKMESH_PUBLIC_URL: not set while SMTP_URL is: set it to the address users open the app at (the links in account e-mails)",
  ]);
});
