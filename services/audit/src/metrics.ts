import { Counter, register } from "prom-client";

// Get-or-create: several modules in one process (tests, embedded app) share the global registry.
function counter<L extends string>(name: string, help: string, labelNames: L[]): Counter<L> {
  return (register.getSingleMetric(name) as Counter<L> | undefined) ?? new Counter({ name, help, labelNames });
}

/** Consumer lag of the "audit" group is exported by the bus (taskmesh_events_consumer_lag). */
export const auditMetrics = {
  written: () => counter("taskmesh_audit_entries_written_total", "Activity entries recorded from events", ["kind"]),
  purged: () => counter("taskmesh_audit_entries_purged_total", "Activity entries deleted past retention", []),
};
