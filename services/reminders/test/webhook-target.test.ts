// The webhook target policy on its own: every encoding of a forbidden address, the operator's
// settings, and postWebhook against real local servers with a resolver the test controls (DNS
// rebinding, pinning, redirects).
import { describe, test } from "vitest";
import assert from "node:assert/strict";
import { defineConfig, type Env } from "@taskmesh/kit";
import { WebhookTargetPolicy, WebhookTargetRefused, webhookSettings, type ResolveHost } from "../src/webhook-target.js";
import { postWebhook, WebhookRedirected } from "../src/webhook.js";
import { startLocalServer } from "./local-server.js";

const PUBLIC_V4 = "93.184.215.14";
const PUBLIC_V6 = "2606:2800:21f:cb07:6820:80da:af6b:8b2c";

/** A resolver answering from a table; a name may have a list of answers, one per call (the last repeats). */
function fakeDns(table: Record<string, string[][]>): ResolveHost & { calls: string[] } {
  const calls: string[] = [];
  const resolve = async (hostname: string) => {
    calls.push(hostname);
    const answers = table[hostname];
    if (!answers) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: "ENOTFOUND" });
    const n = calls.filter((c) => c === hostname).length;
    return answers[Math.min(n, answers.length) - 1]!.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
  };
  return Object.assign(resolve, { calls });
}

/** Every URL here must be refused by the default policy (http allowed, so that the host is what is judged). */
const FORBIDDEN: [url: string, why: RegExp][] = [
  ["http://169.254.169.254/latest/meta-data/iam/security-credentials/", /metadata/],
  ["http://169.254.170.2/v2/credentials", /metadata/],
  ["http://100.100.100.200/latest/meta-data/", /metadata/],
  ["http://[fd00:ec2::254]/latest/meta-data/", /metadata/],
  ["http://10.0.0.1:6379/", /private/],
  ["http://172.16.5.4/", /private/],
  ["http://192.168.1.1/", /private/],
  ["http://100.64.0.1/", /carrier-grade NAT/],
  ["http://127.0.0.1:8080/", /loopback/],
  ["http://127.255.255.254/", /loopback/],
  ["http://[::1]:8080/", /loopback/],
  ["http://0.0.0.0:22/", /unspecified/],
  ["http://[::]:22/", /unspecified/],
  ["http://169.254.1.1/", /link-local/],
  ["http://[fe80::1]/", /link-local/],
  ["http://[fc00::1]/", /unique local/],
  ["http://[fd12:3456::1]/", /unique local/],
  ["http://224.0.0.1/", /multicast/],
  ["http://[ff02::1]/", /multicast/],
  ["http://255.255.255.255/", /broadcast/],
  ["http://240.0.0.1/", /reserved/],
  ["http://192.0.2.1/", /reserved/],
  // Non-canonical IPv4: the WHATWG parser turns each into 127.0.0.1 or 0.0.0.0 before we look.
  ["http://2130706433:8080/", /127\.0\.0\.1, a loopback|127\.0\.0\.1 is a loopback/],
  ["http://0177.0.0.1/", /127\.0\.0\.1 is a loopback/],
  ["http://0x7f.1/", /127\.0\.0\.1 is a loopback/],
  ["http://0x7f000001/", /127\.0\.0\.1 is a loopback/],
  ["http://127.1/", /127\.0\.0\.1 is a loopback/],
  ["http://0/", /0\.0\.0\.0 is the unspecified/],
  ["http://012.0.0.1/", /10\.0\.0\.1 is a private/],
  ["http://0xa9fea9fe/", /169\.254\.169\.254 is a cloud metadata/],
  // IPv6 forms of IPv4 addresses: mapped, translated, compatible, NAT64.
  ["http://[::ffff:127.0.0.1]/", /127\.0\.0\.1, a loopback/],
  ["http://[::ffff:7f00:1]/", /127\.0\.0\.1, a loopback/],
  ["http://[::ffff:10.0.0.1]/", /10\.0\.0\.1, a private/],
  ["http://[::ffff:169.254.169.254]/", /metadata/],
  ["http://[::ffff:0:7f00:1]/", /127\.0\.0\.1, a loopback/],
  ["http://[::127.0.0.1]/", /127\.0\.0\.1, a loopback/],
  ["http://[64:ff9b::7f00:1]/", /127\.0\.0\.1, a loopback/],
  ["http://[64:ff9b::a9fe:a9fe]/", /metadata/],
  ["http://[64:ff9b:1::a00:1]/", /NAT64/],
  ["http://[2002:7f00:1::]/", /6to4/],
  // Names that are loopback by definition (RFC 6761), resolved or not.
  ["http://localhost:8080/", /localhost is a loopback/],
  ["http://LOCALHOST./", /loopback/],
  ["http://api.localhost/", /loopback/],
];

describe("webhook target policy", () => {
  const policy = new WebhookTargetPolicy({ allowHttp: true });

  test("every forbidden address, in every encoding, is refused with the reason and the operator's way out", () => {
    for (const [url, why] of FORBIDDEN) {
      assert.throws(
        () => policy.checkUrl(url),
        (err: unknown) => {
          assert.ok(err instanceof WebhookTargetRefused, url);
          assert.equal(err.rule, "host", url);
          assert.match(err.message, why, url);
          assert.match(err.message, /may point only to public internet addresses/, url);
          assert.match(err.message, /TASKMESH_WEBHOOK_ALLOWED_HOSTS/, url);
          return true;
        },
        url,
      );
    }
  });

  test("public addresses and names pass; IPv4-mapped and NAT64 forms of a public address too", () => {
    for (const url of [
      "https://8.8.8.8/hook",
      `https://[${PUBLIC_V6}]/hook`,
      "https://[::ffff:8.8.8.8]/",
      "https://[64:ff9b::808:808]/",
      "https://hooks.example.com/x?y=1",
      "http://hooks.example.com:8080/",
    ]) {
      assert.equal(policy.checkUrl(url).href.length > 0, true, url);
    }
  });

  test("URL shape and scheme", () => {
    const strict = new WebhookTargetPolicy({ allowHttp: false });
    for (const url of ["http://hooks.example.com/", "ftp://hooks.example.com/", "file:///etc/passwd", "gopher://127.0.0.1:6379/_INFO"]) {
      assert.throws(
        () => strict.checkUrl(url),
        (e: unknown) => e instanceof WebhookTargetRefused && e.rule === "scheme" && /https:\/\//.test(e.message),
        url,
      );
    }
    assert.equal(strict.checkUrl("https://hooks.example.com/").hostname, "hooks.example.com");
    assert.throws(
      () => policy.checkUrl("not a url"),
      (e: unknown) => e instanceof WebhookTargetRefused && e.rule === "url",
    );
    assert.throws(
      () => policy.checkUrl("http://1.2.3.4.5/"),
      (e: unknown) => e instanceof WebhookTargetRefused && e.rule === "url",
    );
    assert.throws(
      () => policy.checkUrl("gopher://hooks.example.com/"),
      (e: unknown) => e instanceof WebhookTargetRefused && e.rule === "scheme",
    );
  });

  test("operator settings: private, loopback, *, CIDRs, addresses and host names", () => {
    const lan = new WebhookTargetPolicy({ allowedHosts: "external, private", allowHttp: true });
    assert.equal(lan.addressRefusal("192.168.1.20"), undefined);
    assert.equal(lan.addressRefusal("10.1.2.3"), undefined);
    assert.equal(lan.addressRefusal("100.101.102.103"), undefined, "CGNAT (Tailscale and the like) is a LAN here");
    assert.equal(lan.addressRefusal("fd12::1"), undefined);
    assert.equal(lan.addressRefusal("::ffff:192.168.1.20"), undefined);
    assert.equal(lan.addressRefusal("8.8.8.8"), undefined);
    assert.match(lan.addressRefusal("127.0.0.1")!, /loopback/);
    assert.match(lan.addressRefusal("100.100.100.200")!, /metadata/, "metadata stays refused inside an allowed range");
    assert.match(lan.addressRefusal("fd00:ec2::254")!, /metadata/);
    assert.match(lan.addressRefusal("169.254.1.1")!, /link-local/);

    const onlyPrivate = new WebhookTargetPolicy({ allowedHosts: "private" });
    assert.match(onlyPrivate.addressRefusal("8.8.8.8")!, /public/, "as in Gitea, each kind is listed: private alone is not external");

    const loop = new WebhookTargetPolicy({ allowedHosts: "loopback", allowHttp: true });
    assert.equal(loop.addressRefusal("127.0.0.1"), undefined);
    assert.equal(loop.addressRefusal("::1"), undefined);
    assert.equal(loop.addressRefusal("::ffff:127.0.0.1"), undefined);
    assert.equal(loop.checkUrl("http://localhost:3000/").port, "3000");
    assert.match(loop.addressRefusal("0.0.0.0")!, /unspecified/);

    const any = new WebhookTargetPolicy({ allowedHosts: "*" });
    assert.equal(any.addressRefusal("10.0.0.1"), undefined);
    assert.equal(any.addressRefusal("0.0.0.0"), undefined);
    assert.match(any.addressRefusal("169.254.169.254")!, /metadata/);

    const cidr = new WebhookTargetPolicy({ allowedHosts: "external,192.168.1.0/24,10.9.9.9,169.254.169.254,fd00:abcd::/32" });
    assert.equal(cidr.addressRefusal("192.168.1.77"), undefined);
    assert.equal(cidr.addressRefusal("::ffff:192.168.1.77"), undefined, "an IPv4 CIDR covers the mapped form");
    assert.match(cidr.addressRefusal("192.168.2.1")!, /private/);
    assert.equal(cidr.addressRefusal("10.9.9.9"), undefined);
    assert.match(cidr.addressRefusal("10.9.9.10")!, /private/);
    assert.equal(cidr.addressRefusal("169.254.169.254"), undefined, "named explicitly");
    assert.equal(cidr.addressRefusal("fd00:abcd::5"), undefined);

    const names = new WebhookTargetPolicy({ allowedHosts: "external,homeassistant.lan,*.home.arpa", allowHttp: true });
    assert.equal(names.checkUrl("http://HomeAssistant.lan:8123/api/webhook/x").hostname, "homeassistant.lan");
    assert.equal(names.checkUrl("http://nas.home.arpa/").hostname, "nas.home.arpa");
    assert.match(names.allowed, /public internet addresses, homeassistant\.lan, \*\.home\.arpa/);

    for (const bad of ["everything", "10.0.0.0/33", "1.2.3.4/x", "http://x", "exa mple.com"]) {
      assert.throws(() => new WebhookTargetPolicy({ allowedHosts: bad }), /TASKMESH_WEBHOOK_ALLOWED_HOSTS/, bad);
    }
  });

  test("settings from the environment: https only in production unless said otherwise", () => {
    const schema = defineConfig("webhooks-test", { webhooks: webhookSettings });
    const webhookTargets = (env: Env) => schema.parse(env).webhooks;
    assert.deepEqual(webhookTargets({}), { allowedHosts: "external", allowHttp: true });
    assert.deepEqual(webhookTargets({ NODE_ENV: "production" }), { allowedHosts: "external", allowHttp: false });
    assert.deepEqual(webhookTargets({ NODE_ENV: "production", TASKMESH_WEBHOOK_ALLOW_HTTP: "true" }).allowHttp, true);
    assert.deepEqual(webhookTargets({ TASKMESH_WEBHOOK_ALLOW_HTTP: "false" }).allowHttp, false);
    assert.deepEqual(webhookTargets({ TASKMESH_WEBHOOK_ALLOWED_HOSTS: "external,private" }).allowedHosts, "external,private");
    assert.throws(() => webhookTargets({ TASKMESH_WEBHOOK_ALLOW_HTTP: "maybe" }), /TASKMESH_WEBHOOK_ALLOW_HTTP/);
    assert.throws(() => webhookTargets({ TASKMESH_WEBHOOK_ALLOWED_HOSTS: "lan" }), /TASKMESH_WEBHOOK_ALLOWED_HOSTS/);
  });

  test("save-time check resolves the name: any forbidden address refuses it; a name that does not resolve is accepted", async () => {
    const dns = fakeDns({
      "hooks.example.com": [[PUBLIC_V4, PUBLIC_V6]],
      "internal.example.com": [["10.0.0.7"]],
      "mixed.example.com": [[PUBLIC_V4, "127.0.0.1"]],
      "mapped.example.com": [[PUBLIC_V6, "::ffff:169.254.169.254"]],
      "metadata.google.internal": [["169.254.169.254"]],
    });
    const p = new WebhookTargetPolicy({ resolve: dns });
    await p.check("https://hooks.example.com/hook");
    await p.check("https://nowhere.invalid/hook");
    for (const [host, why] of [
      ["internal.example.com", /internal\.example\.com resolves to 10\.0\.0\.7, a private/],
      ["mixed.example.com", /resolves to 127\.0\.0\.1, a loopback/],
      ["mapped.example.com", /metadata/],
      ["metadata.google.internal", /metadata/],
    ] as const) {
      await assert.rejects(p.check(`https://${host}/hook`), (e: unknown) => e instanceof WebhookTargetRefused && why.test(e.message), host);
    }
    const slow = new WebhookTargetPolicy({ resolve: () => new Promise(() => {}) });
    await slow.check("https://slow.example.com/", 50);
  });
});

describe("postWebhook connects only to checked addresses", () => {
  const post = (url: string, policy: WebhookTargetPolicy) => postWebhook(url, "secret", "event-1", { hello: "world" }, 2_000, policy);

  test("DNS rebinding: public when saved, 127.0.0.1 when sent: refused at connect, nothing reaches the server", async () => {
    const hook = await startLocalServer();
    try {
      const dns = fakeDns({ "rebind.test": [[PUBLIC_V4], ["127.0.0.1"]] });
      const policy = new WebhookTargetPolicy({ allowHttp: true, resolve: dns });
      const url = `http://rebind.test:${hook.port}/hook`;
      await policy.check(url);
      await assert.rejects(post(url, policy), (e: unknown) => e instanceof WebhookTargetRefused && /rebind\.test resolves to 127\.0\.0\.1, a loopback/.test(e.message));
      assert.deepEqual(dns.calls, ["rebind.test", "rebind.test"], "the connection's own lookup is the policy's");
      assert.equal(hook.connections, 0);
    } finally {
      await hook.close();
    }
  });

  test("refused literals never connect, whatever the encoding", async () => {
    const hook = await startLocalServer();
    try {
      const policy = new WebhookTargetPolicy({ allowHttp: true });
      for (const host of ["127.0.0.1", "2130706433", "0x7f.1", "127.1", "0177.0.0.1", "[::ffff:127.0.0.1]", "[::ffff:7f00:1]", "localhost"]) {
        await assert.rejects(post(`http://${host}:${hook.port}/`, policy), WebhookTargetRefused, host);
      }
      assert.equal(hook.connections, 0);
    } finally {
      await hook.close();
    }
  });

  test("the connection goes to the checked answer (pinned), not to a second resolution", async () => {
    const hook = await startLocalServer();
    try {
      // hooks.lan is allowed by name; it exists only in this resolver, so arriving proves the pin.
      const policy = new WebhookTargetPolicy({ allowedHosts: "hooks.lan", allowHttp: true, resolve: fakeDns({ "hooks.lan": [["127.0.0.1"]] }) });
      await post(`http://hooks.lan:${hook.port}/pinned`, policy);
      assert.deepEqual(
        hook.requests.map((r) => `${r.method} ${r.path}`),
        ["POST /pinned"],
      );
    } finally {
      await hook.close();
    }
  });

  test("with loopback allowed, localhost and 127.0.0.1 are delivered", async () => {
    const hook = await startLocalServer();
    try {
      const policy = new WebhookTargetPolicy({ allowedHosts: "loopback", allowHttp: true });
      await post(`http://127.0.0.1:${hook.port}/a`, policy);
      await post(`http://localhost:${hook.port}/b`, policy);
      assert.deepEqual(
        hook.requests.map((r) => `${r.method} ${r.path}`),
        ["POST /a", "POST /b"],
      );
    } finally {
      await hook.close();
    }
  });

  test("a redirect is not followed", async () => {
    const inner = await startLocalServer();
    const outer = await startLocalServer((res) => res.writeHead(302, { location: `http://127.0.0.1:${inner.port}/elsewhere` }).end());
    try {
      const policy = new WebhookTargetPolicy({ allowedHosts: "loopback", allowHttp: true });
      await assert.rejects(post(`http://127.0.0.1:${outer.port}/hook`, policy), (e: unknown) => e instanceof WebhookRedirected && /HTTP 302.*not followed/.test(e.message));
      assert.equal(outer.requests.length, 1);
      assert.equal(inner.connections, 0);
    } finally {
      await inner.close();
      await outer.close();
    }
  });

  test("no answer in time is an ordinary (retried) failure", async () => {
    const hook = await startLocalServer(() => {});
    try {
      const policy = new WebhookTargetPolicy({ allowedHosts: "loopback", allowHttp: true });
      await assert.rejects(postWebhook(`http://127.0.0.1:${hook.port}/`, "s", "e", {}, 200, policy), /did not answer within 200 ms/);
    } finally {
      await hook.close();
    }
  });
});
