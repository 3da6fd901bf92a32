// The account's name and time zone: the zone is what "today", reminders and repeats mean for calls
// that name none (scripts, the CLI, agents, e-mails), so someone who moves changes it here.
import { useQuery } from "@connectrpc/connect-query";
import { AuthService } from "@taskmesh/proto/taskmesh/auth/v1/auth_service_pb.js";
import { useEffect, useId, useState } from "react";
import { accountClient } from "../api/clients.js";
import { browserTimeZone } from "../tasks/format.js";
import { isTimeZone, TIME_ZONES } from "../tasks/zoned.js";
import { FieldError } from "../ui/field-error.js";
import { SaveButton } from "./save-button.js";
import { useAttempt } from "../ui/use-attempt.js";

export function AccountSettings() {
  const ids = useId();
  const account = useQuery(AuthService.method.getAccount, {});
  const user = account.data?.user;
  const [name, setName] = useState("");
  const [zone, setZone] = useState("");
  const [saved, setSaved] = useState(false);
  const { problem, attempt } = useAttempt(() => account.refetch());
  useEffect(() => {
    if (user) {
      setName(user.displayName);
      setZone(user.timeZone);
    }
  }, [user]);
  if (!user) return null;
  const here = browserTimeZone();
  const change = (set: (value: string) => void) => (value: string) => {
    set(value);
    setSaved(false);
  };
  const save = async () => {
    setSaved(
      await attempt(async () => {
        if (!isTimeZone(zone)) throw new Error(`“${zone}” is not a time zone: pick one from the list, e.g. ${here}`);
        await accountClient.updateAccount({ displayName: name.trim(), timeZone: zone, updateMask: ["display_name", "time_zone"] });
      }),
    );
  };
  return (
    <section aria-labelledby={`${ids}-title`}>
      <h3 id={`${ids}-title`}>Account</h3>
      <p className="hint">{user.email}. The time zone is what today, reminders and repeats mean when a script, the command line or an agent names none.</p>
      <form
        className="settings-row"
        onSubmit={(e) => {
          e.preventDefault();
          void save();
        }}
      >
        <input aria-label="Your name" placeholder="Your name" value={name} maxLength={100} onChange={(e) => change(setName)(e.target.value)} />
        <input aria-label="Your time zone" list={`${ids}-zones`} value={zone} onChange={(e) => change(setZone)(e.target.value)} />
        <datalist id={`${ids}-zones`}>
          {TIME_ZONES.map((z) => (
            <option key={z} value={z} />
          ))}
        </datalist>
        {zone !== here && (
          <button type="button" className="link" onClick={() => change(setZone)(here)}>
            Use this device's ({here})
          </button>
        )}
        <SaveButton saved={saved} />
      </form>
      <FieldError problem={problem} />
    </section>
  );
}
