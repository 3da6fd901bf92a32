// Where reminders go besides the open app — e-mail, a signed webhook — and the quiet hours that hold
// those back: the reminder service's notification preferences, with its field errors shown at their fields.
import { create } from "@bufbuild/protobuf";
import { ViolationsSchema } from "@bufbuild/protovalidate/gen/buf/validate/validate_pb.js";
import { ConnectError } from "@connectrpc/connect";
import { useQuery } from "@connectrpc/connect-query";
import { NotificationChannel, NotificationPreferencesSchema, ReminderService, type NotificationPreferences } from "@taskmesh/proto/taskmesh/reminders/v1/reminder_service_pb.js";
import { useEffect, useId, useState } from "react";
import { currentSession } from "../api/auth-client.js";
import { remindersClient } from "../api/clients.js";
import { browserTimeZone } from "../tasks/format.js";
import { FieldError } from "../ui/field-error.js";
import { SaveButton } from "./save-button.js";

interface Form {
  inApp: boolean;
  email: boolean;
  emailAddress: string;
  webhook: boolean;
  webhookUrl: string;
  quiet: boolean;
  quietStart: string;
  quietEnd: string;
  timeZone: string;
}

function formOf(p: NotificationPreferences): Form {
  return {
    inApp: p.channels.includes(NotificationChannel.IN_APP),
    email: p.channels.includes(NotificationChannel.EMAIL),
    emailAddress: p.emailAddress || (currentSession()?.user?.email ?? ""),
    webhook: p.channels.includes(NotificationChannel.WEBHOOK),
    webhookUrl: p.webhookUrl,
    quiet: p.quietHours !== undefined,
    quietStart: p.quietHours?.start ?? "22:00",
    quietEnd: p.quietHours?.end ?? "07:00",
    // Quiet hours not set yet: they will be kept on this device's clock.
    timeZone: p.quietHours ? p.timeZone : browserTimeZone(),
  };
}

function preferencesOf(f: Form): NotificationPreferences {
  const channels = [f.inApp && NotificationChannel.IN_APP, f.email && NotificationChannel.EMAIL, f.webhook && NotificationChannel.WEBHOOK].filter((c) => c !== false);
  return create(NotificationPreferencesSchema, {
    channels,
    emailAddress: f.emailAddress.trim(),
    webhookUrl: f.webhookUrl.trim(),
    ...(f.quiet ? { quietHours: { start: f.quietStart, end: f.quietEnd } } : {}),
    timeZone: f.timeZone.trim(),
  });
}

/** A refusal's messages by the field they name (its last path element: email_address, start, …); "" for the rest. */
function problemsOf(err: unknown): Map<string, string> {
  const e = ConnectError.from(err);
  const violations = e.findDetails(ViolationsSchema)[0]?.violations ?? [];
  if (violations.length === 0) return new Map([["", e.rawMessage]]);
  return new Map(violations.map((v) => [v.field?.elements.at(-1)?.fieldName ?? "", v.message]));
}

export function ReminderPreferences() {
  const ids = useId();
  const { data, error } = useQuery(ReminderService.method.getNotificationPreferences, {});
  const [form, setForm] = useState<Form>();
  const [secretSet, setSecretSet] = useState(false);
  const [secret, setSecret] = useState<string>();
  const [problems, setProblems] = useState(new Map<string, string>());
  const [saved, setSaved] = useState(false);
  useEffect(() => {
    if (data?.preferences && !form) {
      setForm(formOf(data.preferences));
      setSecretSet(data.preferences.webhookSecretSet);
    }
  }, [data, form]);
  if (!form) return <section aria-label="Reminders">{error ? <p className="field-error">{error.rawMessage}</p> : <p className="hint">Loading…</p>}</section>;

  const set = <K extends keyof Form>(key: K, value: Form[K]) => {
    setForm({ ...form, [key]: value });
    setSaved(false);
  };
  async function save(rotateWebhookSecret = false) {
    setProblems(new Map());
    try {
      const res = await remindersClient.updateNotificationPreferences({ preferences: preferencesOf(form!), rotateWebhookSecret });
      setForm(formOf(res.preferences!));
      setSecretSet(res.preferences!.webhookSecretSet);
      setSecret(res.webhookSigningSecret || undefined);
      setSaved(true);
    } catch (err) {
      setProblems(problemsOf(err));
    }
  }

  return (
    <section aria-labelledby={`${ids}-title`}>
      <h3 id={`${ids}-title`}>Reminders</h3>
      <p className="hint">Where a reminder goes when it fires. E-mail and webhook deliveries wait for the end of quiet hours.</p>
      <form
        className="reminder-preferences"
        onSubmit={(e) => {
          e.preventDefault();
          void save();
        }}
      >
        <label className="inline">
          <input type="checkbox" checked={form.inApp} onChange={(e) => set("inApp", e.target.checked)} />
          In the app, on every open device
        </label>
        <label className="inline">
          <input type="checkbox" checked={form.email} onChange={(e) => set("email", e.target.checked)} />
          By e-mail
        </label>
        {form.email && (
          <>
            <input type="email" aria-label="Reminder e-mail address" value={form.emailAddress} onChange={(e) => set("emailAddress", e.target.value)} />
            <FieldError problem={problems.get("email_address")} />
          </>
        )}
        <label className="inline">
          <input type="checkbox" checked={form.webhook} onChange={(e) => set("webhook", e.target.checked)} />
          To a webhook (a signed POST of JSON)
        </label>
        {form.webhook && (
          <>
            <input type="url" aria-label="Webhook URL" placeholder="https://…" value={form.webhookUrl} onChange={(e) => set("webhookUrl", e.target.value)} />
            <FieldError problem={problems.get("webhook_url")} />
            <div className="settings-row">
              <span className="hint">{secretSet ? "Signed with a secret you were shown once." : "A signing secret is made when you save."}</span>
              {secretSet && (
                <button type="button" className="link" onClick={() => void save(true)}>
                  Make a new signing secret
                </button>
              )}
            </div>
          </>
        )}
        {secret && (
          <div className="feed-address" role="status">
            <p>The webhook's signing secret: copy it now, it is shown only once. Your endpoint checks each delivery's signature headers with it.</p>
            <input aria-label="Webhook signing secret" readOnly value={secret} onFocus={(e) => e.target.select()} />
          </div>
        )}
        <FieldError problem={problems.get("channels")} />
        <label className="inline">
          <input type="checkbox" checked={form.quiet} onChange={(e) => set("quiet", e.target.checked)} />
          Quiet hours
        </label>
        {form.quiet && (
          <>
            <div className="settings-row">
              <input type="time" aria-label="Quiet from" value={form.quietStart} onChange={(e) => set("quietStart", e.target.value)} required />
              <span>to</span>
              <input type="time" aria-label="Quiet until" value={form.quietEnd} onChange={(e) => set("quietEnd", e.target.value)} required />
              <input aria-label="Time zone of the quiet hours" value={form.timeZone} onChange={(e) => set("timeZone", e.target.value)} />
            </div>
            <FieldError problem={problems.get("start") ?? problems.get("end") ?? problems.get("time_zone")} />
          </>
        )}
        <FieldError problem={problems.get("")} />
        <div className="settings-row">
          <SaveButton saved={saved} />
        </div>
      </form>
    </section>
  );
}
