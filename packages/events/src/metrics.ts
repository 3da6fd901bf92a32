import { Counter, Gauge, register } from "prom-client";

// Get-or-create: several buses in one process (embedded app, tests) share the global registry.
function counter<L extends string>(name: string, help: string, labelNames: L[]): Counter<L> {
  return (register.getSingleMetric(name) as Counter<L> | undefined) ?? new Counter({ name, help, labelNames });
}

function gauge<L extends string>(name: string, help: string, labelNames: L[]): Gauge<L> {
  return (register.getSingleMetric(name) as Gauge<L> | undefined) ?? new Gauge({ name, help, labelNames });
}

export const busMetrics = {
  published: () => counter("taskmesh_events_published_total", "Events made durable by publish()", ["bus", "topic"]),
  consumed: () => counter("taskmesh_events_consumed_total", "Events whose handler resolved (offset then committed)", ["bus", "group", "topic"]),
  deadLettered: () => counter("taskmesh_events_dead_lettered_total", "Events parked on <topic>.dlq after failing or not decoding", ["bus", "group", "topic"]),
  lag: () => gauge("taskmesh_events_consumer_lag", "Events in the log after the group's position", ["bus", "group", "topic", "partition"]),
};
