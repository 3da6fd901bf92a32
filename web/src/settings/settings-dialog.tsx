import { useEffect, useId, useRef, useState } from "react";
import { useProjects } from "../projects/projects-api.js";
import { AccountSettings } from "./account-settings.js";
import { ApiTokens } from "./api-tokens.js";
import { CalendarFeeds } from "./calendar-feeds.js";
import { ImportExport } from "./import-export.js";
import { ReminderPreferences } from "./reminder-preferences.js";
import "./settings.css";

/** The header's Settings button and its dialog: the account, where reminders go, import, export, calendar feeds, API tokens. */
export function SettingsButton() {
  const [open, setOpen] = useState(false);
  return (
    <>
      <button type="button" className="link muted" onClick={() => setOpen(true)} aria-haspopup="dialog">
        Settings
      </button>
      {open && <SettingsDialog onClose={() => setOpen(false)} />}
    </>
  );
}

function SettingsDialog({ onClose }: { onClose(): void }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const ids = useId();
  const projects = useProjects().filter((p) => !p.archived);
  useEffect(() => {
    dialog.current?.showModal();
  }, []);
  return (
    <dialog ref={dialog} className="settings-dialog" aria-labelledby={`${ids}-title`} onClose={onClose}>
      <header className="settings-header">
        <h2 id={`${ids}-title`}>Settings</h2>
        <button type="button" className="icon" aria-label="Close settings" onClick={() => dialog.current?.close()}>
          ×
        </button>
      </header>
      <AccountSettings />
      <ReminderPreferences />
      <ImportExport />
      <CalendarFeeds projects={projects} />
      <ApiTokens />
    </dialog>
  );
}
