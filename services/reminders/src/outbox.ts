import type { Outbox } from "@taskmesh/events";
import { SCHEMA } from "./migrations/index.js";

/** reminders.outbox: ReminderEvents written with the state change that caused them. */
export const OUTBOX: Outbox = { schema: SCHEMA, channel: "reminders_outbox", lockKey: 7_140_502 };
