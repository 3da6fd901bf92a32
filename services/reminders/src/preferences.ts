import { create } from "@bufbuild/protobuf";
import type { EntityManager } from "@taskmesh/db";
import { NotificationChannel, NotificationPreferencesSchema, type NotificationPreferences } from "@taskmesh/proto/taskmesh/reminders/v1/reminder_service_pb.js";
import { Preferences as StoredPreferences } from "./entities.js";
import type { QuietHours } from "./quiet-hours.js";

const CHANNEL_NAMES: Record<string, NotificationChannel> = {
  in_app: NotificationChannel.IN_APP,
  webhook: NotificationChannel.WEBHOOK,
  email: NotificationChannel.EMAIL,
};

/** A user's notification settings as stored; users without a row get DEFAULT_PREFERENCES. */
export interface Preferences {
  channels: NotificationChannel[];
  webhookUrl: string;
  webhookSecret: string;
  emailAddress: string;
  quietStart: string;
  quietEnd: string;
  timeZone: string;
}

export const DEFAULT_PREFERENCES: Preferences = {
  channels: [NotificationChannel.IN_APP],
  webhookUrl: "",
  webhookSecret: "",
  emailAddress: "",
  quietStart: "",
  quietEnd: "",
  timeZone: "UTC",
};

function channelName(channel: NotificationChannel): string {
  return Object.entries(CHANNEL_NAMES).find(([, c]) => c === channel)![0];
}

/** The user's preferences as stored in reminders.preferences; DEFAULT_PREFERENCES without a row. */
export function preferencesFrom(row: StoredPreferences | undefined): Preferences {
  if (!row) return { ...DEFAULT_PREFERENCES };
  const { channels, webhookUrl, webhookSecret, emailAddress, quietStart, quietEnd, timeZone } = row;
  return { channels: channels.map((c) => CHANNEL_NAMES[c]!).filter(Boolean), webhookUrl, webhookSecret, emailAddress, quietStart, quietEnd, timeZone };
}

/** The stored preferences of each of the users who have any, by user id. */
export async function storedPreferences(em: EntityManager, userIds: string[]): Promise<Map<string, StoredPreferences>> {
  const rows = await em.find(StoredPreferences, { userId: { $in: userIds } });
  return new Map(rows.map((row) => [row.userId, row]));
}

export async function loadPreferences(em: EntityManager, userId: string): Promise<Preferences> {
  return preferencesFrom((await em.findOne(StoredPreferences, { userId })) ?? undefined);
}

export async function savePreferences(em: EntityManager, userId: string, p: Preferences): Promise<void> {
  const { channels, ...rest } = p;
  await em.upsert(StoredPreferences, { userId, channels: channels.map(channelName), ...rest });
}

export function quietHoursOf(p: Preferences): QuietHours | undefined {
  return p.quietStart && p.quietEnd ? { start: p.quietStart, end: p.quietEnd, timeZone: p.timeZone } : undefined;
}

/** The wire form: never the secret itself, only whether there is one. */
export function preferencesToProto(p: Preferences): NotificationPreferences {
  return create(NotificationPreferencesSchema, {
    channels: p.channels,
    webhookUrl: p.webhookUrl,
    webhookSecretSet: p.webhookSecret !== "",
    emailAddress: p.emailAddress,
    quietHours: p.quietStart ? { start: p.quietStart, end: p.quietEnd } : undefined,
    timeZone: p.timeZone,
  });
}
