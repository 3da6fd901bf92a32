// The chart on a real Kubernetes (packages/infra/src/kubernetes.ts: built from the Go module proxy, run
// on this machine's containerd): bench/cluster-rollout.ts installs Dapr, Traefik and the release
// with `helm upgrade --install --atomic --wait`, walks a user's journey through the Ingress, then
// upgrades, rolls back and force-deletes pods under load, and exits 1 on any failed request, lost
// or duplicated task or event, missed live change, leftover consumer group or lag. The cluster is
// started for the test and stopped after (one already running is used and left running).
//
// Needs root (containerd, the kubelet) and the images npm test builds; TASKMESH_TEST_CLUSTER=0 skips.
import assert from "node:assert/strict";
import { test } from "vitest";
import { podmanProblem } from "@taskmesh/testing/infra";
import { runBench } from "./tools.js";

async function skipReason(): Promise<string | false> {
  if (process.env.TASKMESH_TEST_CLUSTER === "0") return "TASKMESH_TEST_CLUSTER=0";
  if (!process.env.TASKMESH_TEST_IMAGES) return process.env.TASKMESH_TEST_IMAGES_SKIP ?? "the images were not built (TASKMESH_TEST_IMAGES=0)";
  if (process.getuid?.() !== 0) return "the cluster runs containerd and the kubelet: run as root";
  return (await podmanProblem()) ?? false;
}

const skip = await skipReason();
if (skip) console.log(`# cluster skipped: ${skip}`);

test("the chart on Kubernetes: install, a user's journey, upgrade, rollback and killed pods under load lose nothing", { timeout: 60 * 60_000 }, async (ctx) => {
  if (skip) ctx.skip(skip);
  const { code, output, report } = await runBench("cluster-rollout.ts", [], /✖|error|failed/i);
  console.log(report);
  assert.equal(code, 0, output.slice(-20_000));
});
