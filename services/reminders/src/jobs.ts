// Scheduler job ids: a reminder's timer (one per reminder: re-arming moves it) and a delivery's.
export type JobRef = { kind: "reminder"; taskId: string; reminderId: string } | { kind: "delivery"; deliveryId: string };

export function reminderJobId(taskId: string, reminderId: string): string {
  return `reminder/${taskId}/${reminderId}`;
}

export function deliveryJobId(deliveryId: string): string {
  return `delivery/${deliveryId}`;
}

export function parseJobId(id: string): JobRef | undefined {
  const [kind, a, ...rest] = id.split("/");
  if (kind === "reminder" && a && rest.length > 0) return { kind, taskId: a, reminderId: rest.join("/") };
  if (kind === "delivery" && a) return { kind, deliveryId: a };
  return undefined;
}
