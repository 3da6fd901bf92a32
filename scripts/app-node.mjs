// How `npm start` runs the app's node (scripts/launch.mjs), in one place so the benchmarks that
// measure the app (bench/embedded.ts, bench/event-lag.ts) start it the same way. Plain JavaScript
// for any Node ≥ 18, as the launcher.
//
// Measured under load (bench/README.md, "Memory after load"): the app's live JavaScript heap is
// ~70 MiB (most of it the loaded modules' sources and bytecode: its data is in PostgreSQL), but
// with V8's defaults its RSS went from ~140–180 MiB idle to ~300 MiB after a few thousand calls:
//   - the young generation grew to two semi-spaces of 64 MiB (V8 sizes them from the machine's
//     memory, not from --max-old-space-size) and kept them touched: 16 MiB each holds a request's
//     garbage as well, for no measured CPU cost;
//   - glibc gave each thread that allocates (V8's GC and compiler threads, libuv's pool) a malloc
//     arena of its own, 8 per core allowed, each keeping the pages it freed: two serve them as well;
//   - on a big machine V8 otherwise lets the old generation sit at hundreds of MiB before collecting.

/** The node options of the app; an option NODE_OPTIONS already sets is left to it. */
export function appNodeArgs(nodeOptions = process.env.NODE_OPTIONS ?? "") {
  const defaults = ["--max-old-space-size=256", "--max-semi-space-size=16"];
  return defaults.filter((arg) => !nodeOptions.includes(arg.split("=")[0]));
}

/** The environment the app's node adds to its own; a variable already set is left as it is. */
export function appNodeEnv(env = process.env) {
  return env.MALLOC_ARENA_MAX ? {} : { MALLOC_ARENA_MAX: "2" };
}
