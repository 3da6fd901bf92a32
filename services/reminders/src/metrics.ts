import { Counter, Histogram, register } from "prom-client";

// Get-or-create: several modules in one process (tests, embedded mode) share the global registry.
function metric<M>(name: string, make: () => M): M {
  return (register.getSingleMetric(name) as M | undefined) ?? make();
}

export const reminderMetrics = {
  lateness: () =>
    metric(
      "taskmesh_reminder_lateness_seconds",
      () =>
        new Histogram({
          name: "taskmesh_reminder_lateness_seconds",
          help: "Fire time minus scheduled time of fired reminders",
          buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
        }),
    ),
  fired: () => metric("taskmesh_reminders_fired_total", () => new Counter({ name: "taskmesh_reminders_fired_total", help: "Reminders fired" })),
  deliveries: () =>
    metric(
      "taskmesh_reminder_deliveries_total",
      () =>
        new Counter({
          name: "taskmesh_reminder_deliveries_total",
          help: "Webhook and e-mail delivery attempts by outcome (delivered, retry, failed)",
          labelNames: ["channel", "outcome"],
        }),
    ),
};
