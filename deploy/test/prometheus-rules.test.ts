// The alerting and recording rules (k8s/monitoring/prometheus-rules.yaml) pass `promtool check rules`
// and their unit tests (prometheus-rules.test.yaml: each alert fires on the series that should page,
// after its `for`, and stays quiet on the ones that should not).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "vitest";
import YAML from "yaml";
import { find, parseManifests, root, tool } from "./tools.js";

const monitoring = path.join(root, "k8s/monitoring");

function rulesFile(): { dir: string; groups: { name: string; rules: { record?: string; alert?: string; expr: string }[] }[] } {
  const rule = find(parseManifests(fs.readFileSync(path.join(monitoring, "prometheus-rules.yaml"), "utf8")), "PrometheusRule", "taskmesh");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "taskmesh-rules-"));
  fs.writeFileSync(path.join(dir, "rules.yaml"), YAML.stringify({ groups: rule.spec.groups }));
  fs.copyFileSync(path.join(monitoring, "prometheus-rules.test.yaml"), path.join(dir, "rules.test.yaml"));
  return { dir, groups: rule.spec.groups };
}

function promtool(args: string[], cwd: string): string {
  try {
    return execFileSync(tool("TASKMESH_TEST_PROMTOOL"), args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    assert.fail(`promtool ${args.join(" ")}:\n${e.stdout ?? ""}${e.stderr ?? ""}`);
  }
}

test("the rules are valid and their unit tests pass", () => {
  const { dir } = rulesFile();
  try {
    promtool(["check", "rules", "rules.yaml"], dir);
    assert.match(promtool(["test", "rules", "rules.test.yaml"], dir), /SUCCESS/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("every alert has a unit test, a severity and a summary", () => {
  const { dir, groups } = rulesFile();
  fs.rmSync(dir, { recursive: true, force: true });
  const tested = new Set(
    (YAML.parse(fs.readFileSync(path.join(monitoring, "prometheus-rules.test.yaml"), "utf8")) as { tests: { alert_rule_test?: { alertname: string }[] }[] }).tests.flatMap((t) =>
      (t.alert_rule_test ?? []).map((a) => a.alertname),
    ),
  );
  const alerts = groups.flatMap((g) => g.rules).filter((r) => r.alert) as { alert: string; labels?: { severity?: string }; annotations?: { summary?: string } }[];
  assert.ok(alerts.length >= 6);
  for (const a of alerts) {
    assert.ok(tested.has(a.alert), `${a.alert} has a unit test`);
    assert.ok(a.labels?.severity && a.annotations?.summary, `${a.alert} has a severity and a summary`);
  }
});
