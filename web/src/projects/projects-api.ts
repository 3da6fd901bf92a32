import { createClient } from "@connectrpc/connect";
import { createConnectQueryKey, useQuery } from "@connectrpc/connect-query";
import { nameKey } from "@taskmesh/filter";
import { ProjectRole, ProjectService, type Project } from "@taskmesh/proto/taskmesh/projects/v1/project_service_pb.js";
import { TaskService } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import { useQueryClient } from "@tanstack/react-query";
import { transport } from "../api/transport.js";

export const projectsClient = createClient(ProjectService, transport);

/** The user's projects, archived ones too (the sidebar shows those apart); refetched now and then for renames and new shares. */
export function useProjects(): Project[] {
  const { data } = useQuery(ProjectService.method.listProjects, { includeArchived: true }, { refetchInterval: 30_000, refetchOnWindowFocus: true });
  return data?.projects ?? [];
}

/** The project a viewer of it may only look at, for a task in it (undefined: the caller may change the task, or the projects are not read yet and the server decides). */
export function useViewOnly(projectId: string): Project | undefined {
  // Every row asks: it reads the list the sidebar keeps fresh, without a timer or a fetch of its own.
  const { data } = useQuery(ProjectService.method.listProjects, { includeArchived: true }, { refetchOnMount: false });
  const project = data?.projects.find((p) => p.id === projectId);
  return project && project.role < ProjectRole.EDITOR ? project : undefined;
}

/** After a change of projects: their list, and the tasks (a move, a removal, a new share). */
export function useRefreshProjects(): () => Promise<void> {
  const queryClient = useQueryClient();
  return async () => {
    await Promise.all([
      queryClient.invalidateQueries({ queryKey: createConnectQueryKey({ schema: ProjectService, cardinality: undefined }) }),
      queryClient.invalidateQueries({ queryKey: createConnectQueryKey({ schema: TaskService, cardinality: undefined }) }),
    ]);
  };
}

/** The filter term that selects a project or section by name, quoted when the name needs it. */
export function nameTerm(field: "project" | "section", name: string): string {
  const key = nameKey(name);
  return /^[\p{L}\p{N}][\p{L}\p{N}._/-]*$/u.test(key) ? `${field}:${key}` : `${field}:"${name.replace(/["\\]/g, "\\$&")}"`;
}

export const ROLE_NAMES: Record<number, string> = { 1: "Viewer", 2: "Editor", 3: "Admin" };
