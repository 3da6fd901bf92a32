// The task service as its own process (cluster mode). Its settings: ./config.ts (README, Settings).
import { runService } from "@taskmesh/kit";
import { tasksConfig } from "./config.js";
import { tasksDeployable } from "./deployable.js";

await runService(tasksDeployable, tasksConfig);
