// The top frames of a V8 CPU profile (node --cpu-prof), for the benchmark notes:
//   node --import tsx bench/tools/cpuprofile-top.ts <file.cpuprofile> [fromUs-toUs|lastN] [count]
// fromUs-toUs: only samples in that window of the monotonic clock (the bench prints the window of
// each scenario), lastN: the last N seconds of the profile; start-up and seeding stay out. Self time per function (file:line), then total
// (self + callees) time, both as a share of busy samples (all but "(idle)").
import { readFileSync } from "node:fs";
import path from "node:path";

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

const [file, window, count = "25"] = process.argv.slice(2);
if (!file) throw new Error("usage: cpuprofile-top.ts <file.cpuprofile> [fromUs-toUs|lastN] [count]");
const profile = JSON.parse(readFileSync(file, "utf8")) as Profile;
const end = profile.startTime + profile.timeDeltas.reduce((a, b) => a + b, 0);
const [from, to] = !window ? [-Infinity, Infinity] : window.startsWith("last") ? [end - Number(window.slice(4)) * 1e6, end] : window.split("-").map(Number);

const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const name = (n: Node) => {
  const { functionName, url, lineNumber } = n.callFrame;
  if (!url) return functionName || "(anonymous)";
  const short = url
    .replace(/^file:\/\//, "")
    .replace(/^.*node_modules\//, "")
    .replace(`${path.resolve(import.meta.dirname, "../..")}/`, "");
  return `${functionName || "(anonymous)"} ${short}:${lineNumber + 1}`;
};

const self = new Map<string, number>();
const total = new Map<string, number>();
let busy = 0;
let all = 0;
let t = profile.startTime;
profile.samples.forEach((id, i) => {
  t += profile.timeDeltas[i]!;
  if (t < from! || t > to!) return;
  all++;
  const node = byId.get(id)!;
  if (node.callFrame.functionName === "(idle)") return;
  busy++;
  self.set(name(node), (self.get(name(node)) ?? 0) + 1);
  const seen = new Set<string>();
  for (let n: Node | undefined = node; n; n = byId.get(parent.get(n.id) ?? -1)) {
    const key = name(n);
    if (seen.has(key)) continue;
    seen.add(key);
    total.set(key, (total.get(key) ?? 0) + 1);
  }
});

const pct = (n: number) => `${((100 * n) / busy).toFixed(1).padStart(5)} %`;
console.log(`${busy} busy of ${all} samples (${((100 * busy) / all).toFixed(0)} % busy)`);
console.log("\nself time:");
for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, Number(count))) console.log(`${pct(v)}  ${k}`);
console.log("\ntotal time (self + callees):");
for (const [k, v] of [...total]
  .sort((a, b) => b[1] - a[1])
  .filter(([k]) => !k.startsWith("(root)"))
  .slice(0, Number(count)))
  console.log(`${pct(v)}  ${k}`);
