import { TransportProvider } from "@connectrpc/connect-query";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { transport } from "./api/transport.js";
import { App } from "./app.js";
import { NotificationsProvider } from "./notifications/notifications.js";
import { registerServiceWorker } from "./push/service-worker.js";
import "./styles.css";

// Live sync keeps data current, so there is no refetch on focus or interval.
const queryClient = new QueryClient({ defaultOptions: { queries: { refetchOnWindowFocus: false, staleTime: 30_000 } } });

// Only the built app: under Vite's dev server the worker would keep stale modules.
if (import.meta.env.PROD) registerServiceWorker();

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <TransportProvider transport={transport}>
      <QueryClientProvider client={queryClient}>
        <NotificationsProvider>
          <App />
        </NotificationsProvider>
      </QueryClientProvider>
    </TransportProvider>
  </StrictMode>,
);
