// The recurrence service as its own process (cluster mode). Its settings: ./config.ts (README, Settings).
import { runService } from "@taskmesh/kit";
import { recurrenceConfig } from "./config.js";
import { recurrenceDeployable } from "./deployable.js";

await runService(recurrenceDeployable, recurrenceConfig);
