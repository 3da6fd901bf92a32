import { onFirstUse, piece, smtpUrl, text, withDefault } from "@taskmesh/kit";

export interface Mailer {
  send(to: string, subject: string, text: string): Promise<void>;
  close(): void;
}

/**
 * SMTP through nodemailer; `smtpUrl` like smtp://user:pass@host:587 or smtps://… (checked with the
 * settings, at start). nodemailer is loaded with the first e-mail: most installs send none.
 */
export function smtpMailer(smtpUrl: string, from: string): Mailer {
  const transport = onFirstUse(async () => (await import("nodemailer")).default.createTransport(smtpUrl));
  return {
    async send(to, subject, text) {
      // RFC 3834: sent by a program, so vacation responders and the like do not answer it.
      await (await transport()).sendMail({ from, to, subject, text, headers: { "Auto-Submitted": "auto-generated" } });
    },
    close: () => transport.ifStarted((t) => t.close()),
  };
}

/** E-mail reminders; without SMTP_URL e-mail deliveries fail (retried, then recorded as failed). */
export const smtpSettings = piece({ SMTP_URL: smtpUrl, REMINDERS_EMAIL_FROM: withDefault(text, "taskmesh <reminders@localhost>", "the From of e-mail reminders") }, (v) =>
  v.SMTP_URL ? { url: v.SMTP_URL, from: v.REMINDERS_EMAIL_FROM } : undefined,
);
