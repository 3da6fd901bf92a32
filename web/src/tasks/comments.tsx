// A task's comments, oldest first, each with who wrote it and how long ago, and a box to add one.
// Another member's comment arrives live: it changes the task's comment_count, and live sync then
// refetches the task queries, this list among them.
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { ConnectError } from "@connectrpc/connect";
import { createConnectQueryKey, useQuery } from "@connectrpc/connect-query";
import { ViolationsSchema } from "@bufbuild/protovalidate/gen/buf/validate/validate_pb.js";
import type { Task } from "@taskmesh/proto/taskmesh/tasks/v1/task_pb.js";
import { TaskService } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import { useQueryClient } from "@tanstack/react-query";
import { emptyNote } from "../ui/empty-note.js";
import { emptiedIfStill } from "../ui/sent-draft.js";
import { useEffect, useId, useState } from "react";
import { currentSession } from "../api/auth-client.js";
import { tasksClient } from "../api/clients.js";
import { formatDay, formatTime } from "./format.js";
import { useMemberEmails } from "./members.js";
import "./comments.css";

const PAGE = 500;
const MAX_BODY = 10_000;

const relative = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });

/** "just now", "5 minutes ago", "3 hours ago"; older: the day and time. */
export function timeAgo(date: Date, now: Date): string {
  const seconds = Math.round((now.getTime() - date.getTime()) / 1000);
  if (seconds < 60) return "just now";
  if (seconds < 3600) return relative.format(-Math.floor(seconds / 60), "minute");
  if (seconds < 12 * 3600) return relative.format(-Math.floor(seconds / 3600), "hour");
  return `${formatDay(date, now)} ${formatTime(date)}`;
}

/** The current time, once a minute: relative times move on while the list is open. */
function useMinute(): Date {
  const [now, setNow] = useState(() => new Date());
  useEffect(() => {
    const timer = setInterval(() => setNow(new Date()), 60_000);
    return () => clearInterval(timer);
  }, []);
  return now;
}

export function CommentsSection({ task }: { task: Task }) {
  const ids = useId();
  const now = useMinute();
  const queryClient = useQueryClient();
  const comments = useQuery(TaskService.method.listComments, { taskId: task.id, pageSize: PAGE });
  const [body, setBody] = useState("");
  // One id per draft: a retried send of the same comment is stored once.
  const [requestId, setRequestId] = useState(() => crypto.randomUUID());
  const [sending, setSending] = useState(false);
  const [problem, setProblem] = useState<string>();
  const me = currentSession()?.user?.id;
  const list = comments.data?.comments ?? [];
  const emails = useMemberEmails(
    task,
    list.map((c) => c.authorId),
  );
  const authorOf = (id: string) => (id === me ? "You" : (emails.get(id) ?? "A former member"));

  // The comment being edited (its id) and its draft.
  const [editing, setEditing] = useState<{ id: string; body: string }>();

  /** Runs one change of the comments, then shows the list as it now is; true when it was made. */
  async function change(call: () => Promise<unknown>): Promise<boolean> {
    setSending(true);
    setProblem(undefined);
    try {
      await call();
      await queryClient.invalidateQueries({ queryKey: createConnectQueryKey({ schema: TaskService.method.listComments, cardinality: undefined }) });
      return true;
    } catch (err) {
      const error = ConnectError.from(err);
      setProblem(error.findDetails(ViolationsSchema)[0]?.violations[0]?.message ?? error.rawMessage);
      return false;
    } finally {
      setSending(false);
    }
  }

  async function send() {
    if (!body.trim() || sending) return;
    if (await change(() => tasksClient.addComment({ taskId: task.id, body, requestId }))) {
      setBody(emptiedIfStill(body));
      setRequestId(crypto.randomUUID());
    }
  }

  async function saveEdit() {
    if (!editing?.body.trim() || sending) return;
    const { id, body: draft } = editing;
    if (await change(() => tasksClient.editComment({ taskId: task.id, commentId: id, body: draft }))) setEditing(undefined);
  }

  return (
    <section className="comments" aria-labelledby={`${ids}-title`}>
      <h3 id={`${ids}-title`}>Comments{list.length > 0 ? ` (${list.length})` : ""}</h3>
      {comments.error && <p className="muted">Comments are not available: {comments.error.rawMessage}</p>}
      {!comments.error && list.length === 0 && <p className="muted">{emptyNote(comments, "comments", "No comments yet.")}</p>}
      <ol className="comment-list">
        {list.map((c) => {
          const at = c.createTime ? timestampDate(c.createTime) : undefined;
          return (
            <li key={c.id}>
              <div className="comment-meta">
                <strong>{authorOf(c.authorId)}</strong>
                {at && (
                  <time dateTime={at.toISOString()} title={`${formatDay(at, now)} ${formatTime(at)}`}>
                    {timeAgo(at, now)}
                    {c.updateTime && " (edited)"}
                  </time>
                )}
                {c.authorId === me && editing?.id !== c.id && (
                  <span className="comment-actions">
                    <button type="button" className="link" aria-label="Edit comment" onClick={() => setEditing({ id: c.id, body: c.body })}>
                      Edit
                    </button>
                    <button
                      type="button"
                      className="link"
                      aria-label="Delete comment"
                      disabled={sending}
                      onClick={() => void change(() => tasksClient.deleteComment({ taskId: task.id, commentId: c.id }))}
                    >
                      Delete
                    </button>
                  </span>
                )}
              </div>
              {editing?.id === c.id ? (
                <CommentForm
                  label="Edited comment"
                  value={editing.body}
                  onChange={(draft) => setEditing({ id: c.id, body: draft })}
                  onSubmit={() => void saveEdit()}
                  onCancel={() => setEditing(undefined)}
                  sending={sending}
                  submitLabel="Save"
                />
              ) : (
                <p className="comment-body">{c.body}</p>
              )}
            </li>
          );
        })}
      </ol>
      {comments.data?.nextPageToken && <p className="muted">Only the first {PAGE} comments are shown.</p>}
      <CommentForm
        label="Add a comment"
        placeholder="Add a comment… (Ctrl+Enter to send)"
        value={body}
        onChange={setBody}
        onSubmit={() => void send()}
        sending={sending}
        submitLabel={sending ? "Sending…" : "Comment"}
      />
      {problem && (
        <p className="field-error" role="alert">
          {problem}
        </p>
      )}
    </section>
  );
}

/** A comment's text box: Ctrl+Enter (⌘+Enter) submits it, and, given onCancel, Escape or Cancel gives it up. */
function CommentForm(props: {
  label: string;
  placeholder?: string;
  value: string;
  onChange: (value: string) => void;
  onSubmit: () => void;
  onCancel?: () => void;
  sending: boolean;
  submitLabel: string;
}) {
  const { value, onSubmit, onCancel } = props;
  return (
    <form
      className="comment-form"
      onSubmit={(e) => {
        e.preventDefault();
        onSubmit();
      }}
    >
      <textarea
        aria-label={props.label}
        placeholder={props.placeholder}
        rows={2}
        maxLength={MAX_BODY}
        value={value}
        onChange={(e) => props.onChange(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === "Escape") onCancel?.();
          if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
            e.preventDefault();
            onSubmit();
          }
        }}
      />
      <button type="submit" disabled={!value.trim() || props.sending}>
        {props.submitLabel}
      </button>
      {onCancel && (
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      )}
    </form>
  );
}
