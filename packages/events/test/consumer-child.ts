// A consumer process for the crash test of the bus contract: applies events once (by event id)
// slowly, printing "applied" per event, until the test SIGKILLs it.
import { openBusFromEnv } from "./child-bus.js";
import { openEffects, requireEnv } from "./fixtures.js";

const effects = await openEffects(requireEnv("EFFECTS_URL"));
const bus = await openBusFromEnv();
await bus.subscribe({
  group: requireEnv("CHILD_GROUP"),
  topics: [requireEnv("CHILD_TOPIC")],
  handler: async (event) => {
    await effects.applyOnce(event);
    process.stdout.write("applied\n");
    await new Promise((r) => setTimeout(r, 5));
  },
});
