// Corrections applied to the pinned fauxqs (1.9.2) so that it behaves like
// S3 where photofinish depends on it. Each one is checked by
// test/integration/stack.test.mjs.

const fauxqsEntry = import.meta.resolve('fauxqs');
const { S3Error } = await import(new URL('./common/errors.js', fauxqsEntry));

// S3 lists keys in UTF-8 binary order; start-after, marker and continuation
// tokens compare in that order too.
function byteCompare(a, b) {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/**
 * 1. ListObjects/ListObjectsV2 order and pagination.
 *    fauxqs sorts with localeCompare ("a1" < "A2" < "B1" < "b2" < "Z9") but
 *    skips already-listed keys with a UTF-16 "<=" comparison, so paging
 *    through keys of mixed case (or non-ASCII) repeats some keys and never
 *    returns others. S3 sorts by UTF-8 bytes ("A2" < "B1" < "Z9" < "a1").
 *    Also, when a truncated page ended with a common prefix after its last
 *    object, fauxqs built the next token from the last object, so the
 *    prefix came again on the next page; such trailing prefixes are left to
 *    the next page instead (S3 may return fewer than MaxKeys entries).
 */
export function fixListOrder(s3Store) {
  s3Store.listObjects = function listObjects(bucket, options) {
    const objectsMap = this.buckets.get(bucket);
    if (!objectsMap) {
      throw new S3Error('NoSuchBucket', `The specified bucket does not exist: ${bucket}`, 404);
    }
    const prefix = options?.prefix ?? '';
    const delimiter = options?.delimiter;
    const maxKeys = options?.maxKeys ?? 1000;
    const startAfter = options?.startAfter ?? options?.marker ?? '';
    const all = Array.from(objectsMap.values())
      .filter((obj) => obj.key.startsWith(prefix))
      .sort((a, b) => byteCompare(a.key, b.key));

    const entries = []; // in listing order: { object } or { prefix }
    const seenPrefixes = new Set();
    let isTruncated = false;
    for (const obj of all) {
      if (startAfter && byteCompare(obj.key, startAfter) <= 0) continue;
      if (delimiter) {
        const rest = obj.key.slice(prefix.length);
        const idx = rest.indexOf(delimiter);
        if (idx >= 0) {
          const commonPrefix = prefix + rest.slice(0, idx + delimiter.length);
          if (startAfter && byteCompare(commonPrefix, startAfter) <= 0) continue;
          if (seenPrefixes.has(commonPrefix)) continue;
          if (entries.length >= maxKeys) {
            isTruncated = true;
            break;
          }
          seenPrefixes.add(commonPrefix);
          entries.push({ prefix: commonPrefix });
          continue;
        }
      }
      if (entries.length >= maxKeys) {
        isTruncated = true;
        break;
      }
      entries.push({ object: obj });
    }
    if (isTruncated) {
      const lastObject = entries.findLastIndex((e) => e.object);
      if (lastObject >= 0 && lastObject < entries.length - 1) entries.length = lastObject + 1;
    }
    return {
      objects: entries.filter((e) => e.object).map((e) => e.object),
      commonPrefixes: entries.filter((e) => e.prefix).map((e) => e.prefix),
      isTruncated,
    };
  };
}

/**
 * 2. Object size per request. fauxqs caps every request body at 11 MiB
 *    (Fastify bodyLimit), so a single PutObject of a 12 MB photo fails
 *    (413 and the connection is closed mid-upload). S3 takes up to 5 GiB in
 *    one PUT; the stack raises the cap for S3 bodies to `limit` bytes.
 *    Returns false when fauxqs's internals have moved (the cap then stays).
 */
export function raiseS3BodyLimit(app, limit) {
  const sym = Object.getOwnPropertySymbols(app).find((s) => s.description === 'fastify.contentTypeParser');
  const catchAll = sym && app[sym]?.customParsers?.get('');
  if (!catchAll || typeof catchAll.bodyLimit !== 'number') return false;
  catchAll.bodyLimit = limit;
  return true;
}

/**
 * 3. PUT bodies.
 *    - fauxqs parses application/x-www-form-urlencoded (SNS) and
 *      application/x-amz-json-1.0 (SQS) bodies on every route, so a
 *      PutObject/UploadPart with such a Content-Type (curl --data-binary
 *      sends the form type by default) failed with 500. S3 has no such PUT
 *      of its own: PUT bodies are read raw, and the Content-Type is given
 *      back before the handler runs, so the object keeps it.
 *    - A PUT without a body and without Content-Type (an empty object)
 *      failed with 500: it gets an empty body.
 *    - UploadPartCopy (a part PUT with x-amz-copy-source) is not
 *      implemented by fauxqs (500): answered 501 NotImplemented.
 */
export function fixPutBodies(app) {
  const parsed = /application\/x-www-form-urlencoded|application\/x-amz-json-1\.0/i;
  const saved = Symbol('photofinish.contentType');
  app.addHook('onRequest', async (request, reply) => {
    if (request.method !== 'PUT') return;
    const query = request.query ?? {};
    if ('uploadId' in query && 'partNumber' in query && request.headers['x-amz-copy-source'] !== undefined) {
      reply
        .code(501)
        .header('content-type', 'application/xml')
        .send(
          '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NotImplemented</Code>' +
            '<Message>UploadPartCopy is not implemented by the local stack</Message></Error>',
        );
      return reply;
    }
    const ct = request.headers['content-type'];
    if (typeof ct === 'string' && parsed.test(ct)) {
      request[saved] = ct;
      request.raw.headers['content-type'] = 'application/octet-stream';
    }
  });
  app.addHook('preHandler', async (request) => {
    if (request.method !== 'PUT') return;
    if (request[saved] !== undefined) request.raw.headers['content-type'] = request[saved];
    if (request.body === undefined || request.body === null) request.body = Buffer.alloc(0);
  });
}
