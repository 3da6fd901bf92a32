import type { HttpRoute } from "@taskmesh/kit";

/** What a person sees at / until the web app lands: where the API is and how to call it. */
export function landingPage(baseUrl: string): HttpRoute {
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>taskmesh</title>
<style>
 body{font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:3rem auto;padding:0 1rem;color:#1d2433}
 h1{font-size:1.8rem;margin-bottom:.2rem} .ok{color:#137333;font-weight:600}
 pre{background:#f4f6fa;border:1px solid #dfe3eb;border-radius:6px;padding:.8rem;overflow:auto;font-size:.85rem}
 code{font-size:.9em}
</style></head><body>
<h1>taskmesh</h1>
<p class="ok">Running in embedded mode.</p>
<p>The API speaks Connect, gRPC and gRPC-Web on this port. Until accounts arrive, the caller's
identity is the <code>x-user-id</code> header (this server listens on loopback only).</p>
<h2>Try it</h2>
<pre>curl -s ${baseUrl}/taskmesh.tasks.v1.TaskService/CreateTask \\
  -H 'content-type: application/json' -H 'x-user-id: alice' \\
  -d '{"title":"Pay rent","priority":"PRIORITY_HIGH","tags":["home"],
       "dueDate":"2026-12-01","recurrence":{"rrule":"FREQ=MONTHLY"}}'

curl -s ${baseUrl}/taskmesh.tasks.v1.TaskService/ListTasks \\
  -H 'content-type: application/json' -H 'x-user-id: alice' \\
  -d '{"query":"tag:home due:next-7-days","explain":true}'

curl -s ${baseUrl}/taskmesh.recurrence.v1.RecurrenceService/ParseRecurrence \\
  -H 'content-type: application/json' -d '{"text":"every weekday"}'

grpcurl -plaintext ${baseUrl.replace(/^http:\/\//, "")} list</pre>
<p>Health: <a href="/healthz">/healthz</a> · <a href="/readyz">/readyz</a> · Metrics: <a href="/metrics">/metrics</a></p>
</body></html>`;
  return (req, res) => {
    const url = (req.url ?? "/").split("?")[0];
    if (req.method !== "GET" || (url !== "/" && url !== "/index.html")) return false;
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end(html);
    return true;
  };
}
