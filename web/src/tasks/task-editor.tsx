import { create } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { createConnectQueryKey, useQuery } from "@connectrpc/connect-query";
import { Priority, TaskStatus, type Task } from "@taskmesh/proto/taskmesh/tasks/v1/task_pb.js";
import { GetTaskResponseSchema, TaskConflictSchema, TaskService } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useId, useState } from "react";
import { tasksClient } from "../api/clients.js";
import { useNotifications } from "../notifications/notifications.js";
import { isQueuedOffline, OFFLINE_NOTE } from "../offline/offline-queue.js";
import { useViewOnly } from "../projects/projects-api.js";
import { TaskProjectField } from "../projects/task-project-field.js";
import { ActivityPanel } from "./activity-panel.js";
import { CommentsSection } from "./comments.js";
import { cachedTask } from "./cached-task.js";
import { browserTimeZone, PRIORITY_LABELS } from "./format.js";
import { RecurrencePicker } from "./recurrence-picker.js";
import { RemindersEditor } from "./reminders-editor.js";
import { SubtasksField } from "./subtasks-field.js";
import { useTaskActions } from "./task-actions.js";
import { dueOf, formFromTask, rebaseForm, updateRequest, type TaskForm } from "./task-form.js";
import { isTimeZone, TIME_ZONES } from "./zoned.js";
import { ErrorBoundary } from "../ui/error-boundary.js";

const DUE_KINDS: [TaskForm["dueKind"], string][] = [
  ["none", "No due date"],
  ["date", "All day"],
  ["time", "At a time"],
];

interface Props {
  taskId: string;
  onClose(): void;
}

export function TaskEditor({ taskId, onClose }: Props) {
  const queryClient = useQueryClient();
  const { data, error } = useQuery(
    TaskService.method.getTask,
    { id: taskId },
    {
      // The task as a list on screen has it opens the editor at once, and while the server is out
      // of reach, where GetTask waits for it; the server's answer replaces it when it comes.
      placeholderData: () => {
        const task = cachedTask(queryClient, taskId);
        return task && create(GetTaskResponseSchema, { task });
      },
    },
  );
  const task = data?.task;
  return (
    <aside className="editor" aria-label="Task details">
      <header className="editor-header">
        <h2>Task</h2>
        <button type="button" className="icon" aria-label="Close details" onClick={onClose}>
          ×
        </button>
      </header>
      {error && <p className="field-error">{error.code === Code.NotFound ? "This task was deleted." : error.rawMessage}</p>}
      {task && (
        <ErrorBoundary area="this task" resetKey={task.id}>
          <EditorForm key={task.id} task={task} onClose={onClose} />
          <CommentsSection task={task} />
          <ActivityPanel task={task} timeZone={task.timeZone || browserTimeZone()} />
        </ErrorBoundary>
      )}
    </aside>
  );
}

function EditorForm({ task, onClose }: { task: Task; onClose(): void }) {
  const defaultZone = browserTimeZone();
  const [form, setForm] = useState<TaskForm>(() => formFromTask(task, defaultZone));
  const [base, setBase] = useState(task);
  const [problem, setProblem] = useState<string>();
  const [saving, setSaving] = useState(false);
  const ids = useId();
  const queryClient = useQueryClient();
  const actions = useTaskActions();
  const { toast } = useNotifications();
  const pending = updateRequest(base, form);

  // A change from another device replaces an untouched form; with local edits, Save reports a conflict.
  useEffect(() => {
    if (task.version !== base.version && !pending) {
      setBase(task);
      setForm(formFromTask(task, defaultZone));
    }
  }, [task, base.version, pending, defaultZone]);

  const set = <K extends keyof TaskForm>(key: K, value: TaskForm[K]) => setForm((f) => ({ ...f, [key]: value }));
  const due = dueOf(form);
  const start = due.case === "dueTime" ? ({ case: "startTime", value: timestampDate(due.value) } as const) : due.case === "dueDate" ? ({ case: "startDate", value: due.value } as const) : undefined;

  async function save() {
    if (!pending) return;
    if (!isTimeZone(form.timeZone)) return setProblem(`“${form.timeZone}” is not a time zone`);
    setSaving(true);
    setProblem(undefined);
    try {
      const { task: saved } = await tasksClient.updateTask(pending);
      if (saved) {
        queryClient.setQueryData(createConnectQueryKey({ schema: TaskService.method.getTask, input: { id: saved.id }, cardinality: "finite" }), (old) => (old ? { ...old, task: saved } : old));
        setBase(saved);
        setForm(formFromTask(saved, defaultZone));
      }
      toast({ text: "Saved" }, 2000);
      await actions.refresh();
    } catch (err) {
      if (isQueuedOffline(err)) {
        // Kept and listed as waiting; editing on would queue a second change over the first.
        toast({ text: OFFLINE_NOTE }, 5000);
        return onClose();
      }
      const e = ConnectError.from(err);
      const conflict = e.code === Code.Aborted ? e.findDetails(TaskConflictSchema)[0] : undefined;
      if (!conflict?.current) return setProblem(e.rawMessage);
      const theirs = formFromTask(conflict.current, defaultZone);
      const fields = [...new Set(conflict.conflictingFields.map((f) => f.replace(/^due_(time|date)$/, "due").replace("_", " ")))];
      setProblem(`Changed on another device meanwhile: ${fields.join(", ")}${fields.includes("title") ? ` (now “${theirs.title}”)` : ""}. Your edits are kept here: Save again to apply them over it.`);
      // Fields not edited here take the other device's values; saving again is a deliberate choice
      // to put these edits over the version that won.
      setForm((mine) => rebaseForm(mine, formFromTask(base, defaultZone), theirs));
      setBase(conflict.current);
    } finally {
      setSaving(false);
    }
  }

  const done = task.status === TaskStatus.COMPLETED;
  const viewOnly = useViewOnly(task.projectId);
  return (
    <form
      className="editor-form"
      onSubmit={(e) => {
        e.preventDefault();
        void save();
      }}
      onKeyDown={(e) => {
        if (e.key === "Escape") {
          e.stopPropagation();
          onClose();
        }
        if (e.key === "Enter" && (e.metaKey || e.ctrlKey)) void save();
      }}
    >
      <fieldset className="editor-fields" disabled={viewOnly !== undefined}>
        <label htmlFor={`${ids}-title`}>Title</label>
        <input id={`${ids}-title`} value={form.title} onChange={(e) => set("title", e.target.value)} required maxLength={500} />

        <label htmlFor={`${ids}-notes`}>Notes</label>
        <textarea id={`${ids}-notes`} value={form.notes} rows={3} onChange={(e) => set("notes", e.target.value)} />

        <TaskProjectField task={task} />
        <SubtasksField task={task} />

        <div className="field-row">
          <div>
            <label htmlFor={`${ids}-priority`}>Priority</label>
            <select id={`${ids}-priority`} value={form.priority} onChange={(e) => set("priority", Number(e.target.value) as Priority)}>
              {[Priority.NONE, Priority.LOW, Priority.MEDIUM, Priority.HIGH].map((p) => (
                <option key={p} value={p}>
                  {PRIORITY_LABELS[p]}
                </option>
              ))}
            </select>
          </div>
          <div className="grow">
            <label htmlFor={`${ids}-tags`}>Tags</label>
            <input id={`${ids}-tags`} value={form.tags} placeholder="home errands" onChange={(e) => set("tags", e.target.value)} />
          </div>
        </div>

        <fieldset className="due-picker">
          <legend>Due</legend>
          <div className="segmented" role="radiogroup" aria-label="Due kind">
            {DUE_KINDS.map(([kind, label]) => (
              <label key={kind} className="inline">
                <input type="radio" name={`${ids}-due-kind`} checked={form.dueKind === kind} onChange={() => set("dueKind", kind)} />
                {label}
              </label>
            ))}
          </div>
          {form.dueKind !== "none" && (
            <div className="field-row">
              <input type="date" aria-label="Due date" className="grow" value={form.date} onChange={(e) => set("date", e.target.value)} required />
              {form.dueKind === "time" && <input type="time" aria-label="Due time" value={form.time} onChange={(e) => set("time", e.target.value)} required />}
            </div>
          )}
          {form.dueKind !== "none" && (
            <div className="field-row">
              <label htmlFor={`${ids}-tz`} className="inline-label">
                Time zone
              </label>
              <input id={`${ids}-tz`} className="grow" list={`${ids}-zones`} value={form.timeZone} onChange={(e) => set("timeZone", e.target.value)} />
              <datalist id={`${ids}-zones`}>
                {TIME_ZONES.map((z) => (
                  <option key={z} value={z} />
                ))}
              </datalist>
            </div>
          )}
        </fieldset>

        <RecurrencePicker value={form.rule} onChange={(rule) => setForm(({ rule: _old, ...f }) => (rule ? { ...f, rule } : f))} start={start} timeZone={form.timeZone} />
        <RemindersEditor reminders={form.reminders} onChange={(r) => set("reminders", r)} hasDue={due.case !== undefined} allDay={due.case === "dueDate"} timeZone={form.timeZone} />
      </fieldset>

      {problem && (
        <p className="field-error" role="alert">
          {problem}
        </p>
      )}
      {viewOnly ? (
        <p className="view-only-note">View only: you are a viewer of “{viewOnly.name}”. You can comment; an admin of the project can make you an editor.</p>
      ) : (
        <div className="editor-actions">
          <button type="submit" className="primary" disabled={!pending || saving}>
            {saving ? "Saving…" : "Save"}
          </button>
          <button type="button" onClick={() => void (done ? actions.reopen(task) : actions.complete(task))}>
            {done ? "Reopen" : "Complete"}
          </button>
          <span className="spacer" />
          <button
            type="button"
            className="danger"
            onClick={() => {
              onClose();
              void actions.remove(task);
            }}
          >
            Delete
          </button>
        </div>
      )}
    </form>
  );
}
