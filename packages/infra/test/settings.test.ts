// The infrastructure's settings are read when asked for (the test command and benches set some after
// import), an empty value is an unset one, and a value that cannot be meant is an error naming it.
import assert from "node:assert/strict";
import { afterEach, test } from "vitest";
import { infraSettings } from "../src/settings.js";

const saved = { ...process.env };
afterEach(() => {
  for (const name of ["TASKMESH_CLUSTER_INGRESS_PORT", "TASKMESH_KEEP_INFRA", "TASKMESH_CLUSTER_IMAGES", "TASKMESH_KAFKA_VERSION"]) {
    if (saved[name] === undefined) delete process.env[name];
    else process.env[name] = saved[name];
  }
});

test("a value set after import is the one read; an empty one falls back to the default", () => {
  process.env.TASKMESH_KAFKA_VERSION = "4.0.0";
  assert.equal(infraSettings.kafkaVersion, "4.0.0");
  process.env.TASKMESH_KAFKA_VERSION = " ";
  assert.equal(infraSettings.kafkaVersion, "4.1.2");
  process.env.TASKMESH_CLUSTER_INGRESS_PORT = "";
  assert.equal(infraSettings.clusterIngressPort, 18080);
});

test("a port that is not one, a flag that is neither 1 nor 0 and a broken pattern are errors naming the variable", () => {
  process.env.TASKMESH_CLUSTER_INGRESS_PORT = "80a";
  assert.throws(() => infraSettings.clusterIngressPort, /TASKMESH_CLUSTER_INGRESS_PORT="80a": expected a TCP port number/);
  process.env.TASKMESH_CLUSTER_INGRESS_PORT = "70000";
  assert.throws(() => infraSettings.clusterIngressPort, /TASKMESH_CLUSTER_INGRESS_PORT/);
  process.env.TASKMESH_KEEP_INFRA = "yes";
  assert.throws(() => infraSettings.keepInfra, /TASKMESH_KEEP_INFRA="yes": expected 1 \(on\) or 0 \(off\)/);
  process.env.TASKMESH_KEEP_INFRA = "1";
  assert.equal(infraSettings.keepInfra, true);
  process.env.TASKMESH_CLUSTER_IMAGES = "(";
  assert.throws(() => infraSettings.clusterImages, /TASKMESH_CLUSTER_IMAGES="\(": expected a regular expression or 0/);
  process.env.TASKMESH_CLUSTER_IMAGES = "0";
  assert.equal(infraSettings.clusterImages, undefined);
});
