// The audit service as its own process (cluster mode). Its settings: ./config.ts (README, Settings).
import { runService } from "@taskmesh/kit";
import { auditConfig } from "./config.js";
import { auditDeployable } from "./deployable.js";

await runService(auditDeployable, auditConfig);
