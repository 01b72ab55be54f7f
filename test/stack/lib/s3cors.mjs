// S3 CORS for the local stack: what a bucket CORS configuration with one
// rule gives in S3 (AllowedOrigins from the stack's setting, AllowedMethods
// GET PUT POST DELETE HEAD, AllowedHeaders *, ExposeHeaders ETag and
// x-amz-request-id, MaxAgeSeconds 3000), applied to every bucket so that a
// page on another origin (the console) can PUT to presigned URLs and read
// the part's ETag.
//
// The setting: PHOTOFINISH_STACK_CORS_ORIGINS, a comma-separated list of
// origins (scheme://host[:port]), "*" for any (the default, for local use),
// or "none" to answer like a bucket without CORS (preflights refused).

const METHODS = ['GET', 'PUT', 'POST', 'DELETE', 'HEAD'];
const EXPOSE = 'ETag, x-amz-request-id, x-amz-id-2';
const MAX_AGE = '3000';

/** Parses the setting; throws on a malformed origin. */
export function parseCorsOrigins(value) {
  const v = (value ?? '*').trim();
  if (v === '' || v === '*') return { any: true, origins: new Set() };
  if (v === 'none') return { any: false, origins: new Set() };
  const origins = new Set();
  for (const o of v.split(',').map((s) => s.trim()).filter(Boolean)) {
    if (!/^https?:\/\/[^/\s,]+$/.test(o)) {
      throw new Error(`PHOTOFINISH_STACK_CORS_ORIGINS: ${JSON.stringify(o)} is not an origin (scheme://host[:port])`);
    }
    origins.add(o.toLowerCase());
  }
  return { any: false, origins };
}

function allowed(cfg, origin) {
  return typeof origin === 'string' && origin !== '' && (cfg.any || cfg.origins.has(origin.toLowerCase()));
}

function forbidden(reply, status, message) {
  reply
    .code(status)
    .header('content-type', 'application/xml')
    .send(`<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessForbidden</Code><Message>${message}</Message></Error>`);
  return reply;
}

export function addS3Cors(app, cfg) {
  // fauxqs has no OPTIONS routes: every preflight is answered here, before
  // routing would answer 404.
  app.addHook('onRequest', async (request, reply) => {
    if (request.method !== 'OPTIONS') return;
    const origin = request.headers.origin;
    const method = request.headers['access-control-request-method'];
    if (!origin || !method) {
      return forbidden(reply, 400, 'Insufficient information. Origin request header needed.');
    }
    if (!allowed(cfg, origin) || !METHODS.includes(method)) {
      return forbidden(
        reply,
        403,
        'CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, ' +
          'request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted ' +
          "by the resource's CORS spec.",
      );
    }
    reply.header('access-control-allow-origin', cfg.any ? '*' : origin);
    reply.header('access-control-allow-methods', METHODS.join(', '));
    const wanted = request.headers['access-control-request-headers'];
    if (wanted) reply.header('access-control-allow-headers', wanted);
    reply.header('access-control-expose-headers', EXPOSE);
    reply.header('access-control-max-age', MAX_AGE);
    reply.header('vary', 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method');
    reply.code(200).send();
    return reply;
  });
  // Actual requests: the headers are set before the handler runs, so that
  // they go out with every answer, errors included.
  app.addHook('onRequest', async (request, reply) => {
    const origin = request.headers.origin;
    if (request.method === 'OPTIONS' || !allowed(cfg, origin)) return;
    reply.header('access-control-allow-origin', cfg.any ? '*' : origin);
    reply.header('access-control-allow-methods', METHODS.join(', '));
    reply.header('access-control-expose-headers', EXPOSE);
    reply.header('vary', 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method');
  });
}
