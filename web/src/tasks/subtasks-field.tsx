import { useQuery } from "@connectrpc/connect-query";
import type { Task } from "@taskmesh/proto/taskmesh/tasks/v1/task_pb.js";
import { TaskService } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import { useId, useState } from "react";
import { tasksClient } from "../api/clients.js";
import { FieldError } from "../ui/field-error.js";
import { emptiedIfStill } from "../ui/sent-draft.js";
import { useAttempt } from "../ui/use-attempt.js";
import { useTaskActions } from "./task-actions.js";

/** In the editor: the task's parent (with a way out from under it) and a line to add a subtask. */
export function SubtasksField({ task }: { task: Task }) {
  const ids = useId();
  const actions = useTaskActions();
  const parent = useQuery(TaskService.method.getTask, { id: task.parentId }, { enabled: Boolean(task.parentId) });
  const [title, setTitle] = useState("");
  const { problem, attempt } = useAttempt(actions.refresh);

  const add = () => {
    if (title.trim()) void attempt(() => tasksClient.createTask({ title, parentId: task.id }).then(() => setTitle(emptiedIfStill(title))));
  };

  return (
    <div className="subtasks-field">
      {task.parentId && (
        <p className="subtask-of">
          Subtask of <strong>{parent.data?.task?.title ?? "…"}</strong>{" "}
          <button
            type="button"
            className="link muted"
            onClick={() => void attempt(() => tasksClient.updateTask({ task: { id: task.id, parentId: "" }, updateMask: { paths: ["parent_id"] }, expectedVersion: task.version }))}
          >
            Move to the top level
          </button>
        </p>
      )}
      <label htmlFor={`${ids}-subtask`}>Add a subtask</label>
      <div className="field-row">
        <input
          id={`${ids}-subtask`}
          className="grow"
          value={title}
          maxLength={500}
          placeholder="A step of this task"
          onChange={(e) => setTitle(e.target.value)}
          onKeyDown={(e) => {
            // Enter adds the subtask here instead of saving the editor's form.
            if (e.key !== "Enter" || e.metaKey || e.ctrlKey) return;
            e.preventDefault();
            add();
          }}
        />
        <button type="button" disabled={!title.trim()} onClick={add}>
          Add
        </button>
      </div>
      <FieldError problem={problem} />
    </div>
  );
}
