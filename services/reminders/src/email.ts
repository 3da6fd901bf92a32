import { piece, smtpUrl, text, withDefault } from "@taskmesh/kit";

/** E-mail reminders; without SMTP_URL e-mail deliveries fail (retried, then recorded as failed). */
export const smtpSettings = piece({ SMTP_URL: smtpUrl, REMINDERS_EMAIL_FROM: withDefault(text, "taskmesh <reminders@localhost>", "the From of e-mail reminders") }, (v) =>
  v.SMTP_URL ? { url: v.SMTP_URL, from: v.REMINDERS_EMAIL_FROM } : undefined,
);
