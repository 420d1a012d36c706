// A small HTTP load balancer in front of the API processes, like an ALB target group: round robin over the
// targets that pass the readiness check (polled every second), 502 when a target fails mid-request, 503 when no
// target is healthy. It counts every answer it gives, so client-visible failures can be accounted per phase.
import { Agent, createServer, request as httpRequest } from 'node:http';

const READINESS = '/.backstage/health/v1/readiness';

export async function startLoadBalancer({
  intervalMs = 1_000,
  healthyThreshold = 2,
  unhealthyThreshold = 1,
} = {}) {
  /** name -> { name, port, healthy, ok, failed } */
  const targets = new Map();
  // Like an ALB: keep-alive connections to the targets, closed after 60 s idle (the ALB's default idle
  // timeout; the production config keeps the backend's own keep-alive timeout above it).
  const agent = new Agent({
    keepAlive: true,
    maxSockets: 256,
    timeout: 60_000,
  });
  const stats = { requests: 0, failures: [], rejections: [] };
  let next = 0;

  const healthyTargets = () => [...targets.values()].filter(t => t.healthy);

  async function check(target) {
    let ok = false;
    try {
      const res = await fetch(`http://127.0.0.1:${target.port}${READINESS}`, {
        signal: AbortSignal.timeout(intervalMs * 2),
      });
      ok = res.ok;
      await res.arrayBuffer();
    } catch {
      ok = false;
    }
    if (ok) {
      target.failed = 0;
      target.ok += 1;
      if (!target.healthy && target.ok >= healthyThreshold)
        target.healthy = true;
    } else {
      target.ok = 0;
      target.failed += 1;
      if (target.healthy && target.failed >= unhealthyThreshold)
        target.healthy = false;
    }
  }

  let checking = false;
  const timer = setInterval(async () => {
    if (checking) return;
    checking = true;
    try {
      await Promise.all([...targets.values()].map(check));
    } finally {
      checking = false;
    }
  }, intervalMs);

  const fail = (res, status, reason, path) => {
    stats.failures.push({ at: Date.now(), status, reason, path });
    if (!res.headersSent)
      res.writeHead(status, { 'Content-Type': 'application/json' });
    res.end(
      JSON.stringify({ error: { name: 'LoadBalancerError', message: reason } }),
    );
  };

  const server = createServer((req, res) => {
    stats.requests += 1;
    const healthy = healthyTargets();
    if (healthy.length === 0) {
      fail(res, 503, 'no healthy target', req.url);
      return;
    }
    const target = healthy[next++ % healthy.length];
    const upstream = httpRequest(
      {
        host: '127.0.0.1',
        port: target.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
        agent,
      },
      upstreamRes => {
        if (upstreamRes.statusCode >= 500)
          stats.failures.push({
            at: Date.now(),
            status: upstreamRes.statusCode,
            reason: `${target.name} answered ${upstreamRes.statusCode}`,
            path: req.url,
          });
        // The first few client errors are kept with their answer: a rejected executor report is a finding.
        if (
          upstreamRes.statusCode >= 400 &&
          upstreamRes.statusCode < 500 &&
          stats.rejections.length < 20
        ) {
          const rejection = {
            at: Date.now(),
            status: upstreamRes.statusCode,
            path: req.url,
            body: '',
          };
          stats.rejections.push(rejection);
          upstreamRes.on('data', chunk => {
            if (rejection.body.length < 600)
              rejection.body += String(chunk).slice(0, 600);
          });
        }
        res.writeHead(upstreamRes.statusCode, upstreamRes.headers);
        upstreamRes.pipe(res);
        upstreamRes.on('error', () => res.destroy());
      },
    );
    upstream.on('error', error =>
      fail(res, 502, `${target.name}: ${error.code ?? error.message}`, req.url),
    );
    req.pipe(upstream);
  });
  server.keepAliveTimeout = 5_000;
  await new Promise(r => server.listen(0, '127.0.0.1', r));
  const { port } = server.address();

  return {
    url: `http://127.0.0.1:${port}`,
    stats,
    /** Registers a target; it receives traffic once it has passed `healthyThreshold` checks. */
    addTarget(name, targetPort) {
      targets.set(name, {
        name,
        port: targetPort,
        healthy: false,
        ok: 0,
        failed: 0,
      });
    },
    removeTarget(name) {
      targets.delete(name);
    },
    healthyNames: () => healthyTargets().map(t => t.name),
    async waitHealthy(name, ms = 60_000) {
      const deadline = Date.now() + ms;
      while (!targets.get(name)?.healthy) {
        if (Date.now() > deadline)
          throw new Error(`load balancer: ${name} not healthy in ${ms} ms`);
        await new Promise(r => setTimeout(r, 200));
      }
    },
    close: () =>
      new Promise(r => {
        clearInterval(timer);
        agent.destroy();
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
