import { create } from "@bufbuild/protobuf";
import type { Database, EntityManager } from "@taskmesh/db";
import { NotificationChannel, NotificationPreferencesSchema, type NotificationPreferences } from "@taskmesh/proto/taskmesh/reminders/v1/reminder_service_pb.js";
import { SCHEMA } from "./migrations/index.js";
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

/** The columns of reminders.preferences. */
export interface PreferencesRow {
  channels: string[];
  webhook_url: string;
  webhook_secret: string;
  email_address: string;
  quiet_start: string;
  quiet_end: string;
  time_zone: string;
}

export function preferencesFromRow(row: PreferencesRow): Preferences {
  return {
    channels: row.channels.map((c) => CHANNEL_NAMES[c]!).filter(Boolean),
    webhookUrl: row.webhook_url,
    webhookSecret: row.webhook_secret,
    emailAddress: row.email_address,
    quietStart: row.quiet_start,
    quietEnd: row.quiet_end,
    timeZone: row.time_zone,
  };
}

export async function loadPreferences(db: Database, em: EntityManager, userId: string): Promise<Preferences> {
  const [row] = await db.query<PreferencesRow>(em, `SELECT * FROM ${SCHEMA}.preferences WHERE user_id = $1`, [userId]);
  return row ? preferencesFromRow(row) : { ...DEFAULT_PREFERENCES };
}

export async function savePreferences(db: Database, em: EntityManager, userId: string, p: Preferences): Promise<void> {
  await db.query(
    em,
    `INSERT INTO ${SCHEMA}.preferences (user_id, channels, webhook_url, webhook_secret, email_address, quiet_start, quiet_end, time_zone)
     VALUES ($1, $2::text[], $3, $4, $5, $6, $7, $8)
     ON CONFLICT (user_id) DO UPDATE SET channels = EXCLUDED.channels, webhook_url = EXCLUDED.webhook_url,
       webhook_secret = EXCLUDED.webhook_secret, email_address = EXCLUDED.email_address, quiet_start = EXCLUDED.quiet_start,
       quiet_end = EXCLUDED.quiet_end, time_zone = EXCLUDED.time_zone`,
    [userId, p.channels.map(channelName), p.webhookUrl, p.webhookSecret, p.emailAddress, p.quietStart, p.quietEnd, p.timeZone],
  );
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
