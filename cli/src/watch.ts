// `taskmesh watch`: the task service's change feed (WatchTasks) as it arrives, one line per change.
// The stream resumes from its last cursor when the connection drops (a restart of the gateway), or
// goes silent past two heartbeats (a network gone without a word never ends it).
import { durationMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type Client } from "@connectrpc/connect";
import { taskOut, type TaskOutput } from "@taskmesh/mcp/shapes";
import type { TaskService } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import { row } from "./format.js";

export type Change = { change: "added" | "changed" | "completed"; task: TaskOutput } | { change: "deleted"; id: string; title?: string };

const RETRY_MS = 2_000;

/** Calls `onChange` for every change until `signal` aborts; says on stderr when it is live and when it reconnects. */
export async function watch(tasks: Pick<Client<typeof TaskService>, "watchTasks">, signal: AbortSignal, onChange: (change: Change) => void): Promise<void> {
  // Deletions carry only the id: the title is the one last seen here, if any.
  const titles = new Map<string, string>();
  let cursor = "";
  let live = false;
  while (!signal.aborted) {
    const stream = new AbortController();
    const stop = () => stream.abort();
    signal.addEventListener("abort", stop, { once: true });
    let silence: NodeJS.Timeout | undefined;
    // Armed by the first heartbeat: a server that sends none is never taken for dead for its silence.
    let heard = (): void => undefined;
    try {
      for await (const { cursor: next, change } of tasks.watchTasks({ cursor }, { signal: stream.signal })) {
        heard();
        cursor = next || cursor;
        if (change.case === "heartbeat" && change.value.interval) {
          const deadMs = 2 * durationMs(change.value.interval) + 1000;
          heard = () => {
            clearTimeout(silence);
            silence = setTimeout(() => stream.abort(new ConnectError(`nothing heard for ${Math.round(deadMs / 1000)} s`, Code.Unavailable)), deadMs);
          };
          heard();
        }
        if (change.case === "caughtUp" && !live) {
          live = true;
          process.stderr.write("Watching for changes (Ctrl-C to stop)\n");
        } else if (change.case === "resyncRequired") {
          process.stderr.write("Some changes were missed while disconnected: `taskmesh ls` shows the tasks as they are now\n");
        } else if (change.case === "upserted") {
          const task = taskOut(change.value);
          titles.set(task.id, task.title);
          onChange({ change: task.version === 1 ? "added" : task.status === "completed" && task.completeTime === task.updateTime ? "completed" : "changed", task });
        } else if (change.case === "deletedTaskId") {
          onChange({ change: "deleted", id: change.value, title: titles.get(change.value) });
        }
      }
    } catch (err) {
      if (signal.aborted) return;
      const e = ConnectError.from(stream.signal.aborted ? stream.signal.reason : err);
      // A refused token or a bad cursor does not get better by retrying.
      if (e.code !== Code.Unavailable && e.code !== Code.Unknown && e.code !== Code.Internal) throw err;
      process.stderr.write(`Connection lost (${e.rawMessage}); reconnecting…\n`);
      await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
    } finally {
      clearTimeout(silence);
      signal.removeEventListener("abort", stop);
    }
  }
}

/** One change as a line: the time it arrived, what happened, and the task's row. */
export function changeLine(c: Change, zone: string, at = new Date()): string {
  const time = at.toLocaleTimeString("en-GB", { timeZone: zone, hour12: false });
  const what = c.change.padEnd(9);
  if (c.change === "deleted") return `${time}  ${what}  ${c.id.slice(0, 8)}  ${c.title ?? ""}`.trimEnd();
  return `${time}  ${what}  ${row(c.task, zone).filter(Boolean).join("  ")}`;
}
