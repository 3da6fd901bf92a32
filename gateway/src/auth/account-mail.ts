import { smtpMailer, type Logger } from "@taskmesh/kit";

/** Where account e-mails (verification, password reset) go and what their links point at. */
export interface AccountEmailSettings {
  /** smtp://user:pass@host:587 or smtps://…; without it the e-mails are written to the server log. */
  smtpUrl?: string;
  from: string;
  /** The address users open the app at (links in e-mails); never taken from a request's Host. */
  publicUrl?: string;
}

export interface AccountMail {
  /** True with an SMTP server: sign-ups then finish through the link of a verification e-mail. */
  readonly verifiesSignUps: boolean;
  /** A link into the web app carrying a token (in the fragment, so it stays out of server logs). */
  link(path: string, token: string): string;
  send(to: string, subject: string, text: string): Promise<void>;
  close(): void;
}

export function accountMail(settings: AccountEmailSettings, logger: Logger): AccountMail {
  const base = settings.publicUrl?.replace(/\/+$/, "") ?? "";
  const link = (path: string, token: string) => `${base}${path}#token=${token}`;
  if (!settings.smtpUrl) {
    return {
      verifiesSignUps: false,
      link,
      // A self-hosted install without SMTP: whoever runs it reads the link here and passes it on.
      async send(to, subject, text) {
        logger.warn({ to, subject, text }, "account e-mail not sent (no SMTP_URL): its text is here for the operator");
      },
      close() {},
    };
  }
  const mailer = smtpMailer(settings.smtpUrl, settings.from);
  return { verifiesSignUps: true, link, send: mailer.send, close: mailer.close };
}
