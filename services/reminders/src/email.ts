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

/** SMTP_URL and REMINDERS_EMAIL_FROM; undefined when SMTP_URL is not set (e-mail deliveries then wait and fail). */
export function smtpFromEnv(env: NodeJS.ProcessEnv = process.env): { url: string; from: string } | undefined {
  return env.SMTP_URL ? { url: env.SMTP_URL, from: env.REMINDERS_EMAIL_FROM ?? "taskmesh <reminders@localhost>" } : undefined;
}
