// `npm start`: the whole app in one process (embedded mode). Its settings: ./config.ts (README, Settings).
import { runService } from "@taskmesh/kit";
import { appConfig } from "./config.js";
import { appDeployable } from "./deployable.js";

await runService(appDeployable, appConfig);
