// The gateway as its own process (cluster mode). Its settings: ./config.ts (README, Settings).
import { runService } from "@taskmesh/kit";
import { gatewayConfig } from "./config.js";
import { gatewayDeployable } from "./deployable.js";

await runService(gatewayDeployable, gatewayConfig);
