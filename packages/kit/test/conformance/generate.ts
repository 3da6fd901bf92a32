// Regenerates ./gen from the .proto files of the connectrpc.com/conformance module whose runner the
// conformance test uses (GO_TOOLS pins it), fetched from the Go module proxy: run from anywhere
// with `node --import tsx packages/kit/test/conformance/generate.ts`.
import { execFileSync } from "node:child_process";
import path from "node:path";
import { GO_TOOLS } from "@taskmesh/testing/infra";

const root = path.resolve(import.meta.dirname, "../../../..");
const module = `connectrpc.com/conformance@${GO_TOOLS.connectconformance.version}`;
const { Dir } = JSON.parse(execFileSync("go", ["mod", "download", "-json", module], { encoding: "utf8" })) as { Dir: string };
// The server side only: the client's and the suite's messages are the runner's business.
const files = ["config.proto", "server_compat.proto", "service.proto"].flatMap((f) => ["--path", path.join(Dir, "proto/connectrpc/conformance/v1", f)]);
const bin = path.join(root, "node_modules/.bin");
execFileSync(path.join(bin, "buf"), ["generate", path.join(Dir, "proto"), "--template", "packages/kit/test/conformance/buf.gen.yaml", ...files], {
  cwd: root,
  stdio: "inherit",
  // buf finds protoc-gen-es on PATH, as under `npm run`
  env: { ...process.env, PATH: `${bin}${path.delimiter}${process.env.PATH}` },
});
