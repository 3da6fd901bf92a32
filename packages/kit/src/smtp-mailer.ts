// Plain-text e-mail over SMTP (nodemailer), for every service that sends some: reminders and the
// gateway's account e-mails.
import { onFirstUse } from "./first-use.js";

export interface Mailer {
  send(to: string, subject: string, text: string): Promise<void>;
  close(): void;
}

/**
 * `smtpUrl` like smtp://user:pass@host:587 or smtps://… (checked with the settings, at start).
 * nodemailer is loaded with the first e-mail: most installs send none.
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
