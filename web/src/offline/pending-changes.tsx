// The changes waiting to be sent, above the list, and the hook that sends them when the server
// answers again (on the browser's `online`, at start, and every 5 s while something waits).
import { createClient } from "@connectrpc/connect";
import { TaskService } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { currentSession } from "../api/auth-client.js";
import { directTransport } from "../api/transport.js";
import { useNotifications } from "../notifications/notifications.js";
import { cachedTask } from "../tasks/cached-task.js";
import { useTaskActions } from "../tasks/task-actions.js";
import { flush, flushSoon, onFlushed, onQueueChange, setFlusher, setTitleLookup } from "./offline-queue.js";
import { queuedChanges, type QueuedChange } from "./offline-store.js";

const client = createClient(TaskService, directTransport);

/** Sends queued changes when it can; answers the ones still waiting, oldest first. */
export function useOfflineSync(): QueuedChange[] {
  const [pending, setPending] = useState<QueuedChange[]>([]);
  const { toast } = useNotifications();
  const { refresh } = useTaskActions();
  const queryClient = useQueryClient();
  useEffect(() => {
    const load = async () => {
      const userId = currentSession()?.user?.id;
      setPending((await queuedChanges()).filter((c) => c.userId === userId));
    };
    setFlusher(() => flush(client));
    setTitleLookup((id) => cachedTask(queryClient, id)?.title);
    const offQueue = onQueueChange(() => void load());
    const offFlushed = onFlushed(({ refused }) => {
      for (const r of refused) toast({ text: `Not applied: ${r.label} — ${r.reason}`, tone: "error" }, 15_000);
      void refresh();
    });
    const online = () => void flushSoon();
    window.addEventListener("online", online);
    void load().then(online);
    return () => {
      offQueue();
      offFlushed();
      window.removeEventListener("online", online);
    };
  }, [toast, refresh, queryClient]);
  return pending;
}

export function PendingChanges({ changes }: { changes: QueuedChange[] }) {
  if (changes.length === 0) return null;
  return (
    <div className="pending-changes" role="status">
      <strong>
        {changes.length} change{changes.length === 1 ? "" : "s"} waiting to be sent
      </strong>{" "}
      <span className="muted">(kept on this device; sent in order once the server answers):</span>
      <ul>
        {changes.map((c) => (
          <li key={c.seq}>{c.label}</li>
        ))}
      </ul>
    </div>
  );
}
