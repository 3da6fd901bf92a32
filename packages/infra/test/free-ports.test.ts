// Ports handed out to be bound later must not be ephemeral ones: an outgoing connection made
// before their user binds them may take them ("address already in use" at start-up).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import net from "node:net";
import { fileURLToPath } from "node:url";
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

test("a port handed out is not handed out again to another process until its taker has had time to bind it", async () => {
  const mine = new Set(await freePorts(200));
  // Another process, as another test file is: the reservation is the machine's, not this module's.
  const script = `import { freePorts } from ${JSON.stringify(fileURLToPath(new URL("../src/cache.ts", import.meta.url)))}; console.log(JSON.stringify(await freePorts(200)));`;
  const theirs: number[] = JSON.parse(execFileSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { encoding: "utf8" }));
  assert.deepEqual(
    theirs.filter((p) => mine.has(p)),
    [],
  );
});
