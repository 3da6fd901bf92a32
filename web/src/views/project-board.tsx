// A project's board: a column per section (and one for no section), cards dragged between them.
import { useQuery } from "@connectrpc/connect-query";
import { ProjectRole, ProjectService, type Project } from "@taskmesh/proto/taskmesh/projects/v1/project_service_pb.js";
import { create } from "@bufbuild/protobuf";
import type { Task } from "@taskmesh/proto/taskmesh/tasks/v1/task_pb.js";
import { UpdateTaskRequestSchema } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import { FlatTaskRows } from "../tasks/task-row.js";
import { boardColumns, type Column } from "./days.js";
import { TaskDropContext, usePlace } from "./task-drop.js";
import type { TaskViewProps } from "./view.js";
import { LoadMore } from "../ui/load-more.js";
import "./views.css";

interface Props extends TaskViewProps {
  project: Project;
}

export function ProjectBoard({ project, tasks, selectedId, pendingIds, onSelect, onOpen, onToggle, onUpdate, loading, hasMore, onMore }: Props) {
  // The same query as the project header's: both refresh when a section is added or removed.
  const sections = useQuery(ProjectService.method.listSections, { projectId: project.id });
  const columns = boardColumns(tasks, sections.data?.sections ?? []);
  const movable = project.role >= ProjectRole.EDITOR && columns.length > 1;
  const places = columns.map((c) => ({ id: placeId(c.sectionId), label: c.sectionId ? `the section ${c.name}` : "no section" }));
  return (
    <>
      <TaskDropContext
        places={places}
        tasks={tasks}
        onDrop={(task, id) => {
          const sectionId = id.slice(PREFIX.length);
          if (sectionId === task.sectionId) return;
          const to = columns.find((c) => c.sectionId === sectionId)?.name ?? "";
          onUpdate(sectionRequest(task, sectionId), { text: `Moved “${task.title}” to ${to}`, undo: (moved) => sectionRequest(moved, task.sectionId) });
        }}
      >
        <fieldset className="board" aria-busy={loading} aria-label={`Board of ${project.name}`}>
          {columns.map((column) => (
            <BoardColumn key={column.sectionId} column={column} movable={movable} selectedId={selectedId} pendingIds={pendingIds} onSelect={onSelect} onOpen={onOpen} onToggle={onToggle} />
          ))}
        </fieldset>
      </TaskDropContext>
      <LoadMore hasMore={hasMore} onMore={onMore} />
    </>
  );
}

/** The existing way to put a task in a section: UpdateTask with section_id alone in the mask. */
const sectionRequest = (task: Task, sectionId: string) => create(UpdateTaskRequestSchema, { task: { id: task.id, sectionId }, updateMask: { paths: ["section_id"] }, expectedVersion: task.version });

const PREFIX = "section:";
const placeId = (sectionId: string) => `${PREFIX}${sectionId}`;

interface ColumnProps extends Pick<Props, "selectedId" | "pendingIds" | "onSelect" | "onOpen" | "onToggle"> {
  column: Column;
  movable: boolean;
}

function BoardColumn({ column, movable, selectedId, pendingIds, onSelect, onOpen, onToggle }: ColumnProps) {
  const place = usePlace(placeId(column.sectionId));
  const headingId = `column-${column.sectionId || "none"}`;
  return (
    <section ref={place.ref} className={`board-column${place.over ? " drop-over" : ""}`} aria-labelledby={headingId} data-section={column.sectionId}>
      <h2 id={headingId}>
        {column.name} <span className="day-count muted">{column.tasks.length}</span>
      </h2>
      {column.tasks.length === 0 ? (
        <p className="day-empty muted">{movable ? "Drag a task here" : "No tasks"}</p>
      ) : (
        <ul className="task-list cards" aria-label={`Tasks in ${column.name}`}>
          <FlatTaskRows tasks={column.tasks} selectedId={selectedId} pendingIds={pendingIds} reorderable={movable} onSelect={onSelect} onOpen={onOpen} onToggle={onToggle} />
        </ul>
      )}
    </section>
  );
}
