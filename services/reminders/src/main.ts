// The reminders service as its own process (cluster mode). Its settings: ./config.ts (README, Settings).
import { runService } from "@taskmesh/kit";
import { remindersConfig } from "./config.js";
import { remindersDeployable } from "./deployable.js";

await runService(remindersDeployable, remindersConfig);
