import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// `npm run dev -w web` proxies the APIs and /live to a running `npm start` (TASKMESH_URL, default :8080).
const target = process.env.TASKMESH_URL ?? "http://localhost:8080";

export default defineConfig({
  plugins: [react()],
  build: { outDir: "dist", emptyOutDir: true, sourcemap: true },
  server: {
    proxy: {
      "^/taskmesh\\.": { target, changeOrigin: true },
      "/live": { target, ws: true },
    },
  },
});
