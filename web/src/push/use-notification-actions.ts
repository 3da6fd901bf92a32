// What a click on a pushed notification asks for (web/public/sw.js): the worker posts it to an open
// tab, or opens one with it in the address. Carried out here, where the session is.
import { useEffect, useRef } from "react";
import type { Inbox } from "../notifications/inbox.js";

interface ActionMessage {
  type: "reminder-action";
  action: "open" | "snooze" | "dismiss";
  taskId: string;
  reminderId: string;
}

const ADDRESS_KEYS = ["reminder-action", "task", "reminder", "notification"];

export function useNotificationActions(inbox: Inbox, openTask: (taskId: string) => void): void {
  const handlers = useRef({ inbox, openTask });
  handlers.current = { inbox, openTask };

  useEffect(() => {
    const run = (m: ActionMessage) => {
      const { inbox, openTask } = handlers.current;
      if (m.action === "snooze") void inbox.snooze(m);
      else if (m.action === "dismiss") void inbox.dismiss(m);
      else openTask(m.taskId);
    };
    const params = new URLSearchParams(location.search);
    const action = params.get("reminder-action");
    if ((action === "open" || action === "snooze" || action === "dismiss") && params.get("task") && params.get("reminder")) {
      run({ type: "reminder-action", action, taskId: params.get("task")!, reminderId: params.get("reminder")! });
      for (const key of ADDRESS_KEYS) params.delete(key);
      const rest = params.toString();
      history.replaceState(history.state, "", `${location.pathname}${rest ? `?${rest}` : ""}${location.hash}`);
    }
    if (!("serviceWorker" in navigator)) return;
    const onMessage = (event: MessageEvent) => {
      const data = event.data as { type?: string } | undefined;
      if (data?.type === "reminder-action") run(data as ActionMessage);
      else if (data?.type === "inbox-changed") void handlers.current.inbox.refresh();
    };
    navigator.serviceWorker.addEventListener("message", onMessage);
    return () => navigator.serviceWorker.removeEventListener("message", onMessage);
  }, []);
}
