// The recurrence service's settings (cluster mode).
import { busSettings, defineConfig, reaches, meshServiceSettings, transportSettings } from "@taskmesh/kit";

export const recurrenceConfig = defineConfig(
  "recurrence",
  {
    ...meshServiceSettings({ port: 8082 }),
    bus: busSettings,
    transport: transportSettings(["tasks"]),
  },
  (config, report) => {
    if (config.bus && config.transport && !reaches(config.transport, "tasks"))
      report("TASKS_URL", "not set; the next-occurrence consumer calls the task service (e.g. http://tasks:8080), or run beside a Dapr sidecar");
  },
);
