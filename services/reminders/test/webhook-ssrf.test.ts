// Reminder webhooks cannot be aimed at the server's own network (issue 13): through the real
// service, URLs to loopback, private, link-local, metadata and other internal addresses are refused
// when saved, and at delivery the connection is checked again on the address it actually uses, so
// a name that resolves to a public address when saved and to 127.0.0.1 when sent reaches nothing.
// The resolver is the test's, so that `rebind.test` answers what each step needs.
import { afterAll, beforeAll, describe, test } from "vitest";
import assert from "node:assert/strict";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { ViolationsSchema } from "@bufbuild/protovalidate/gen/buf/validate/validate_pb.js";
import { register, type Counter } from "prom-client";
import { NotificationChannel } from "@taskmesh/proto/taskmesh/reminders/v1/reminder_service_pb.js";
import { freshDatabase, type FreshDatabase } from "@taskmesh/testing";
import { fieldPathText } from "@taskmesh/testing/connect";
import type { ResolveHost } from "../src/index.js";
import { as, eventually, firstDelivery, sleep, startStack, type Stack } from "./harness.js";
import { startLocalServer } from "./local-server.js";

const PUBLIC_V4 = "93.184.215.14";

const inMs = (ms: number) => timestampFromDate(new Date(Date.now() + ms));

/** Answers from `dns`, which the tests change between saving and sending. */
const dns = new Map<string, string[]>();
const resolve: ResolveHost = async (hostname) => {
  const answer = dns.get(hostname);
  if (!answer) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: "ENOTFOUND" });
  return answer.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
};

async function refusedCount(): Promise<number> {
  const metric = register.getSingleMetric("taskmesh_reminder_deliveries_total") as Counter | undefined;
  const values = (await metric?.get())?.values ?? [];
  return values.find((v) => v.labels.channel === "webhook" && v.labels.outcome === "refused")?.value ?? 0;
}

describe("webhook targets", () => {
  let db: FreshDatabase;
  let stack: Stack;
  beforeAll(async () => {
    db = await freshDatabase();
    // The default target policy (public addresses only); http allowed so that the host is what is judged.
    stack = await startStack(db.url, { delivery: { retryMs: 100, maxAttempts: 5 }, webhooks: { allowHttp: true, resolve } });
  });
  afterAll(async () => {
    await stack.stop();
    await db.drop();
  });

  test("saving a URL to an internal address is INVALID_ARGUMENT on preferences.webhook_url, in every encoding", async () => {
    dns.set("loopback.test", ["127.0.0.1"]);
    dns.set("internal.test", ["10.0.0.7"]);
    dns.set("mixed.test", [PUBLIC_V4, "::1"]);
    dns.set("metadata.test", ["169.254.169.254"]);
    const forbidden = [
      "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
      "http://10.0.0.1:6379/",
      "http://192.168.0.1/",
      "http://100.64.0.1/",
      "http://[::1]:8080/",
      "http://0.0.0.0:22/",
      "http://2130706433:8080/",
      "http://0177.0.0.1/",
      "http://0x7f.1/",
      "http://127.1/",
      "http://[::ffff:127.0.0.1]/",
      "http://[::ffff:7f00:1]/",
      "http://[64:ff9b::7f00:1]/",
      "http://[fe80::1]/",
      "http://[fc00::1]/",
      "http://[fd00:ec2::254]/",
      "http://100.100.100.200/",
      "http://224.0.0.1/",
      "http://localhost:8080/",
      "http://loopback.test/",
      "http://internal.test/",
      "http://mixed.test/",
      "http://metadata.test/",
    ];
    const user = as("ssrf-save-user");
    const byUriRule: string[] = [];
    for (const webhookUrl of forbidden) {
      const err = await stack.reminders.updateNotificationPreferences({ preferences: { channels: [NotificationChannel.WEBHOOK], webhookUrl } }, user).then(
        () => assert.fail(`${webhookUrl} was accepted`),
        (e: unknown) => ConnectError.from(e),
      );
      assert.equal(err.code, Code.InvalidArgument, webhookUrl);
      const violations = err.findDetails(ViolationsSchema).flatMap((v) => v.violations);
      assert.deepEqual(
        violations.map((v) => fieldPathText(v.field)),
        ["preferences.webhook_url"],
        webhookUrl,
      );
      // The proto's own string.uri rule turns a few forms away before the service sees them.
      if (violations[0]!.ruleId === "string.uri") {
        byUriRule.push(webhookUrl);
        continue;
      }
      assert.equal(violations[0]!.ruleId, "webhook_url.host", webhookUrl);
      assert.match(violations[0]!.message, /may point only to public internet addresses: .* (is|resolves to) .*TASKMESH_WEBHOOK_ALLOWED_HOSTS/, webhookUrl);
    }
    assert.ok(byUriRule.length <= 2, `the service judged the rest (string.uri took ${byUriRule.join(", ")})`);
    const { preferences } = await stack.reminders.getNotificationPreferences({}, user);
    assert.equal(preferences!.webhookUrl, "", "nothing was saved");
    // A public address, and a public name, are fine.
    dns.set("hooks.test", [PUBLIC_V4]);
    for (const webhookUrl of [`http://${PUBLIC_V4}/hook`, "https://hooks.test/hook"]) {
      const saved = await stack.reminders.updateNotificationPreferences({ preferences: { channels: [NotificationChannel.WEBHOOK], webhookUrl } }, user);
      assert.equal(saved.preferences!.webhookUrl, webhookUrl);
    }
  });

  test("DNS rebinding: public when saved, 127.0.0.1 when sent: refused at connect, recorded as failed once, the local server gets nothing", async () => {
    const hook = await startLocalServer();
    try {
      const user = as("rebind-user");
      dns.set("rebind.test", [PUBLIC_V4]);
      await stack.reminders.updateNotificationPreferences(
        { preferences: { channels: [NotificationChannel.IN_APP, NotificationChannel.WEBHOOK], webhookUrl: `http://rebind.test:${hook.port}/hook` } },
        user,
      );
      dns.set("rebind.test", ["127.0.0.1"]);
      const refusedBefore = await refusedCount();
      await stack.tasks.createTask({ title: "Rebound", reminders: [{ id: "r", trigger: { case: "absoluteTime", value: inMs(300) } }] }, user);
      const row = await firstDelivery(stack, "rebind-user", "failed");
      assert.equal(row.attempts, 1, "permanent: not retried");
      assert.match(row.last_error, /rebind\.test resolves to 127\.0\.0\.1, a loopback address/);
      // The counter moves just after the row is recorded, which this test may read in between.
      await eventually("the refused delivery counted", async () => ((await refusedCount()) > refusedBefore ? true : undefined), 5_000);
      await sleep(500);
      assert.equal(await refusedCount(), refusedBefore + 1, "taskmesh_reminder_deliveries_total{outcome=refused}");
      assert.equal(hook.connections, 0);
      assert.equal(hook.requests.length, 0);
    } finally {
      await hook.close();
    }
  });

  test("a URL stored before the policy (or under a laxer setting) is refused at delivery", async () => {
    const hook = await startLocalServer();
    try {
      const user = as("stored-user");
      await stack.reminders.updateNotificationPreferences({ preferences: { channels: [NotificationChannel.WEBHOOK], webhookUrl: `http://${PUBLIC_V4}/hook` } }, user);
      await stack.module().db.query(stack.module().db.em(), `UPDATE reminders.preferences SET webhook_url = $2 WHERE user_id = $1`, ["stored-user", `http://localhost:${hook.port}/hook`]);
      await stack.tasks.createTask({ title: "Old URL", reminders: [{ id: "r", trigger: { case: "absoluteTime", value: inMs(300) } }] }, user);
      const row = await firstDelivery(stack, "stored-user", "failed");
      assert.equal(row.attempts, 1);
      assert.match(row.last_error, /localhost is a loopback address/);
      await sleep(300);
      assert.equal(hook.connections, 0);
    } finally {
      await hook.close();
    }
  });
});
