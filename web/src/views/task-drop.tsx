// Dragging a task onto a place (a day, a section) rather than among other tasks: the places are the
// only drop targets, arrow keys step from one to the next, and the announcements name them.
import {
  DndContext,
  DragOverlay,
  KeyboardSensor,
  PointerSensor,
  useDroppable,
  useSensor,
  useSensors,
  type Announcements,
  type CollisionDetection,
  type KeyboardCoordinateGetter,
  type Modifier,
  type UniqueIdentifier,
} from "@dnd-kit/core";
import type { Task } from "@taskmesh/proto/taskmesh/tasks/v1/task_pb.js";
import { useRef, useState, type MutableRefObject, type ReactNode } from "react";
import { getEventCoordinates, type Coordinates } from "@dnd-kit/utilities";
import { formatDue } from "../tasks/format.js";

export interface Place {
  id: string;
  /** How the place is spoken: "Tomorrow, Sat 5 Dec", "the section Paint". */
  label: string;
}

interface Props {
  /** In the order arrow keys step through them. */
  places: readonly Place[];
  tasks: readonly Task[];
  onDrop(task: Task, placeId: string): void;
  children: ReactNode;
}

export function TaskDropContext({ places, tasks, onDrop, children }: Props) {
  const [dragged, setDragged] = useState<Task>();
  const grip = useRef<Coordinates | undefined>(undefined);
  const coordinateGetter = stepThrough(places);
  // A few pixels of travel before a drag starts, so that a click on the handle stays a click.
  const sensors = useSensors(useSensor(PointerSensor, { activationConstraint: { distance: 5 } }), useSensor(KeyboardSensor, { coordinateGetter }));
  const taskOf = (id: UniqueIdentifier) => tasks.find((t) => t.id === id);
  const titleOf = (id: UniqueIdentifier) => taskOf(id)?.title ?? "the task";
  const labelOf = (id: UniqueIdentifier | undefined) => places.find((p) => p.id === id)?.label;
  const announcements: Announcements = {
    onDragStart: ({ active }) => `Picked up ${titleOf(active.id)}.`,
    onDragOver: ({ active, over }) => (labelOf(over?.id) ? `${titleOf(active.id)} is over ${labelOf(over?.id)}.` : `${titleOf(active.id)} is not over a place to drop it.`),
    onDragEnd: ({ active, over }) => (labelOf(over?.id) ? `${titleOf(active.id)} was moved to ${labelOf(over?.id)}.` : `${titleOf(active.id)} was dropped where it was.`),
    onDragCancel: ({ active }) => `Moving ${titleOf(active.id)} was cancelled.`,
  };
  return (
    <DndContext
      sensors={sensors}
      collisionDetection={placeAt(places, grip)}
      accessibility={{
        announcements,
        screenReaderInstructions: {
          draggable: "To move a task, press space or enter on its handle, choose where with the arrow keys, and press space or enter again to drop it there, or escape to cancel.",
        },
      }}
      onDragStart={({ active }) => setDragged(taskOf(active.id))}
      onDragCancel={() => {
        setDragged(undefined);
        grip.current = undefined;
      }}
      onDragEnd={({ active, over }) => {
        setDragged(undefined);
        grip.current = undefined;
        const task = taskOf(active.id);
        if (task && over && labelOf(over.id)) onDrop(task, String(over.id));
      }}
    >
      {children}
      {/* The row stays in its place while a copy follows the pointer: its place is where it returns to. */}
      <DragOverlay dropAnimation={null} modifiers={[besidePointer]}>
        {dragged && (
          <div className="drag-ghost">
            {dragged.title}
            {formatDue(dragged) && <span className="muted">{formatDue(dragged)}</span>}
          </div>
        )}
      </DragOverlay>
    </DndContext>
  );
}

/** A place tasks can be dropped on; `over` while a task is above it. */
export function usePlace(id: string) {
  const { setNodeRef, isOver } = useDroppable({ id });
  return { ref: setNodeRef, over: isOver };
}

/**
 * The place under the point of the dragged row where it was gripped: the pointer's, or for the
 * keyboard, which has none, a point just inside the row's corner (stepThrough puts that corner into
 * the place chosen). The point is kept relative to the row, not read from the pointer: once the page
 * scrolls under a drag, the pointer's coordinates no longer match the places' measured ones, the
 * row's still do.
 */
function placeAt(places: readonly Place[], grip: MutableRefObject<Coordinates | undefined>): CollisionDetection {
  const ids = new Set(places.map((p) => p.id));
  return ({ droppableContainers, droppableRects, pointerCoordinates, collisionRect }) => {
    grip.current ??= pointerCoordinates ? { x: pointerCoordinates.x - collisionRect.left, y: pointerCoordinates.y - collisionRect.top } : { x: INSET, y: INSET };
    const point = { x: collisionRect.left + grip.current.x, y: collisionRect.top + grip.current.y };
    for (const container of droppableContainers) {
      const rect = droppableRects.get(container.id);
      if (!ids.has(String(container.id)) || !rect) continue;
      if (point.x >= rect.left && point.x <= rect.right && point.y >= rect.top && point.y <= rect.bottom) return [{ id: container.id, data: { droppableContainer: container } }];
    }
    return [];
  };
}

/**
 * A pointer's copy sits at the pointer, wherever on the row it was gripped (the handle is at the
 * row's far end); a keyboard's moves as the row would, from place to place.
 */
const besidePointer: Modifier = ({ activatorEvent, draggingNodeRect, transform }) => {
  const start = activatorEvent && getEventCoordinates(activatorEvent);
  if (!start || !draggingNodeRect) return transform;
  return { ...transform, x: transform.x + start.x - draggingNodeRect.left + 12, y: transform.y + start.y - draggingNodeRect.top - 12 };
};

const INSET = 8;
const STEPS: Record<string, number> = { ArrowDown: 1, ArrowRight: 1, ArrowUp: -1, ArrowLeft: -1 };

/** Arrow keys move the dragged row to the next or previous place, whichever way the places are laid out. */
function stepThrough(places: readonly Place[]): KeyboardCoordinateGetter {
  return (event, { context: { over, droppableRects } }) => {
    const step = STEPS[event.code];
    if (!step) return undefined;
    event.preventDefault();
    const from = places.findIndex((p) => p.id === over?.id);
    const next = places[Math.min(places.length - 1, Math.max(0, from + step))];
    const rect = next && droppableRects.get(next.id);
    return rect ? { x: rect.left + INSET / 2, y: rect.top + INSET / 2 } : undefined;
  };
}
