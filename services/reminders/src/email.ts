import { piece, smtpUrl, text, withDefault } from "@taskmesh/kit";
import nodemailer from "nodemailer";

export interface Mailer {
  send(to: string, subject: string, text: string): Promise<void>;
  close(): void;
}

/** SMTP through nodemailer; `smtpUrl` like smtp://user:pass@host:587 or smtps://… */
export function smtpMailer(smtpUrl: string, from: string): Mailer {
  const transport = nodemailer.createTransport(smtpUrl);
  return {
    async send(to, subject, text) {
      await transport.sendMail({ from, to, subject, text });
    },
    close: () => transport.close(),
  };
}

/** E-mail reminders; without SMTP_URL e-mail deliveries fail (retried, then recorded as failed). */
export const smtpSettings = piece({ SMTP_URL: smtpUrl, REMINDERS_EMAIL_FROM: withDefault(text, "taskmesh <reminders@localhost>", "the From of e-mail reminders") }, (v) =>
  v.SMTP_URL ? { url: v.SMTP_URL, from: v.REMINDERS_EMAIL_FROM } : undefined,
);
