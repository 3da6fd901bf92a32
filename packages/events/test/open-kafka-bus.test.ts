// openKafkaBus against the real Kafka and registry: a registry that is not up yet (a fresh
// cluster, where every pod starts at once) is waited for instead of crashing the service.
import { test } from "vitest";
import assert from "node:assert/strict";
import net from "node:net";
import { createLogger } from "@taskmesh/kit";
import { openKafkaBus } from "../src/index.js";
import { requireEnv } from "./fixtures.js";

const brokers = requireEnv("TASKMESH_TEST_KAFKA_BROKERS");
const registry = new URL(requireEnv("TASKMESH_TEST_SCHEMA_REGISTRY_URL"));

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

test("a schema registry that comes up after the service started is waited for", { timeout: 60_000 }, async () => {
  const port = await freePort();
  // The registry's address answers only after 2 s: a TCP relay to the real one, opened late.
  let relay: net.Server | undefined;
  const opening = new Promise<void>((resolve) =>
    setTimeout(() => {
      relay = net.createServer((client) => {
        const upstream = net.connect(Number(registry.port), registry.hostname);
        client.pipe(upstream).pipe(client);
        client.on("error", () => upstream.destroy());
        upstream.on("error", () => client.destroy());
      });
      relay.listen(port, "127.0.0.1", () => resolve());
    }, 2_000),
  );
  const url = `http://127.0.0.1:${port}${registry.pathname}`;
  const t0 = Date.now();
  const bus = await openKafkaBus({ brokers: [brokers], registryUrl: url }, createLogger("open-kafka-bus-test"));
  await opening;
  assert.ok(Date.now() - t0 >= 2_000, "it waited for the registry");
  await bus.close();
  relay?.close();
});
