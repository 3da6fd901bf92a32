// Ports handed out to be bound later must not be ephemeral ones: an outgoing connection made
// before their user binds them may take them ("address already in use" at start-up).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import net from "node:net";
import { test } from "vitest";
import { freePorts } from "../src/cache.js";

test("free ports are distinct, bindable, and below the kernel's ephemeral range", async () => {
  const [ephemeralStart] = readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/).map(Number);
  const ports = await freePorts(20);
  assert.equal(new Set(ports).size, 20);
  for (const port of ports) {
    assert.ok(port < ephemeralStart!, `${port} is below the ephemeral range starting at ${ephemeralStart}`);
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => server.once("error", reject).listen(port, "127.0.0.1", resolve));
    await new Promise((r) => server.close(r));
  }
});
