// Corrections applied to the pinned fauxqs (1.9.2) so that it behaves like
// S3 where photofinish depends on it. Each one is checked by
// test/integration/stack.test.mjs.

import { createHash } from 'node:crypto';

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

const XMLNS = 'http://s3.amazonaws.com/doc/2006-03-01/';
const OWNER = '<ID>A1PHOTOFINISHOWNER</ID><DisplayName>photofinish</DisplayName>';

function escapeXml(s) {
  return String(s)
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&apos;');
}

function sendS3Error(reply, status, code, message) {
  reply
    .code(status)
    .header('content-type', 'application/xml')
    .send(
      `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code>` +
        `<Message>${escapeXml(message)}</Message></Error>`,
    );
  return reply;
}

// A query parameter that must be an integer in [min, max] when present.
function intParam(query, name, dflt, min, max) {
  if (!(name in query)) return dflt;
  const v = query[name];
  if (typeof v !== 'string' || !/^\d{1,6}$/.test(v)) return NaN;
  const n = Number(v);
  return n < min || n > max ? NaN : n;
}

/**
 * 4. Multipart uploads.
 *    - ListParts (GET /bucket/key?uploadId=) is not implemented by fauxqs
 *      (it answered with the object, or NoSuchKey); added with S3's
 *      max-parts (cap 1000) and part-number-marker paging.
 *    - ListMultipartUploads (GET /bucket?uploads) is not implemented
 *      (it answered with ListObjects); added with prefix, key-marker,
 *      upload-id-marker and max-uploads, ordered by key (UTF-8 bytes) then
 *      initiation time, as S3 does.
 *    - UploadPart, CompleteMultipartUpload and AbortMultipartUpload accept
 *      any bucket and key with a known upload id; S3 answers NoSuchUpload
 *      (404) unless they are the upload's. A part number outside 1..10000
 *      is refused with InvalidArgument as in S3.
 */
export function addMultipartListing(app, s3Store) {
  app.addHook('onRequest', async (request, reply) => {
    const query = request.query ?? {};
    const bucket = request.params?.bucket;
    if (!bucket) return;
    const key = request.params['*'] ?? '';

    if (key && typeof query.uploadId === 'string') {
      const upload = s3Store.multipartUploads.get(query.uploadId);
      if (!upload || upload.bucket !== bucket || upload.key !== key) {
        if (request.method === 'GET' || request.method === 'PUT' || request.method === 'POST' || request.method === 'DELETE') {
          return sendS3Error(
            reply,
            404,
            'NoSuchUpload',
            'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
          );
        }
        return;
      }
      if (request.method === 'PUT' && 'partNumber' in query && Number.isNaN(intParam(query, 'partNumber', 0, 1, 10000))) {
        return sendS3Error(reply, 400, 'InvalidArgument', 'Part number must be an integer between 1 and 10000, inclusive');
      }
      if (request.method === 'GET') return listParts(request, reply, upload, query);
      return;
    }
    if (request.method === 'GET' && !key && 'uploads' in query) return listUploads(reply, s3Store, bucket, query);
  });
}

function listParts(request, reply, upload, query) {
  const maxParts = intParam(query, 'max-parts', 1000, 0, 2147483647);
  const marker = intParam(query, 'part-number-marker', 0, 0, 2147483647);
  if (Number.isNaN(maxParts) || Number.isNaN(marker)) {
    return sendS3Error(reply, 400, 'InvalidArgument', 'max-parts and part-number-marker must be non-negative integers');
  }
  const limit = Math.min(maxParts, 1000);
  const all = [...upload.parts.values()].filter((p) => p.partNumber > marker).sort((a, b) => a.partNumber - b.partNumber);
  const page = all.slice(0, limit);
  const truncated = all.length > page.length;
  const next = page.length ? page[page.length - 1].partNumber : marker;
  const xml =
    `<?xml version="1.0" encoding="UTF-8"?>\n<ListPartsResult xmlns="${XMLNS}">` +
    `<Bucket>${escapeXml(upload.bucket)}</Bucket><Key>${escapeXml(upload.key)}</Key>` +
    `<UploadId>${escapeXml(upload.uploadId)}</UploadId>` +
    `<Initiator>${OWNER}</Initiator><Owner>${OWNER}</Owner><StorageClass>STANDARD</StorageClass>` +
    `<PartNumberMarker>${marker}</PartNumberMarker><NextPartNumberMarker>${next}</NextPartNumberMarker>` +
    `<MaxParts>${limit}</MaxParts><IsTruncated>${truncated}</IsTruncated>` +
    page
      .map(
        (p) =>
          `<Part><PartNumber>${p.partNumber}</PartNumber>` +
          `<LastModified>${p.lastModified.toISOString()}</LastModified>` +
          `<ETag>${escapeXml(p.etag)}</ETag><Size>${p.body.length}</Size></Part>`,
      )
      .join('') +
    `</ListPartsResult>`;
  reply.code(200).header('content-type', 'application/xml').send(xml);
  return reply;
}

function listUploads(reply, s3Store, bucket, query) {
  if (!s3Store.buckets.has(bucket)) {
    return sendS3Error(reply, 404, 'NoSuchBucket', `The specified bucket does not exist: ${bucket}`);
  }
  const maxUploads = intParam(query, 'max-uploads', 1000, 0, 2147483647);
  if (Number.isNaN(maxUploads)) {
    return sendS3Error(reply, 400, 'InvalidArgument', 'max-uploads must be a non-negative integer');
  }
  const limit = Math.min(maxUploads, 1000);
  const prefix = typeof query.prefix === 'string' ? query.prefix : '';
  const keyMarker = typeof query['key-marker'] === 'string' ? query['key-marker'] : '';
  const idMarker = keyMarker && typeof query['upload-id-marker'] === 'string' ? query['upload-id-marker'] : '';
  const ids = s3Store.multipartUploadsByBucket.get(bucket) ?? new Set();
  const sorted = [...ids]
    .map((id) => s3Store.multipartUploads.get(id))
    .filter((u) => u && u.key.startsWith(prefix))
    .sort((a, b) => byteCompare(a.key, b.key) || a.initiated - b.initiated);
  let start = 0;
  if (keyMarker) {
    const afterId = idMarker ? sorted.findIndex((u) => u.key === keyMarker && u.uploadId === idMarker) : -1;
    start = afterId >= 0 ? afterId + 1 : sorted.findIndex((u) => byteCompare(u.key, keyMarker) > 0);
    if (start < 0) start = sorted.length;
  }
  const page = sorted.slice(start, start + limit);
  const truncated = start + page.length < sorted.length;
  const last = page[page.length - 1];
  const xml =
    `<?xml version="1.0" encoding="UTF-8"?>\n<ListMultipartUploadsResult xmlns="${XMLNS}">` +
    `<Bucket>${escapeXml(bucket)}</Bucket><KeyMarker>${escapeXml(keyMarker)}</KeyMarker>` +
    `<UploadIdMarker>${escapeXml(idMarker)}</UploadIdMarker>` +
    (truncated
      ? `<NextKeyMarker>${escapeXml(last.key)}</NextKeyMarker><NextUploadIdMarker>${escapeXml(last.uploadId)}</NextUploadIdMarker>`
      : '<NextKeyMarker></NextKeyMarker><NextUploadIdMarker></NextUploadIdMarker>') +
    (prefix ? `<Prefix>${escapeXml(prefix)}</Prefix>` : '') +
    `<MaxUploads>${limit}</MaxUploads><IsTruncated>${truncated}</IsTruncated>` +
    page
      .map(
        (u) =>
          `<Upload><Key>${escapeXml(u.key)}</Key><UploadId>${escapeXml(u.uploadId)}</UploadId>` +
          `<Initiator>${OWNER}</Initiator><Owner>${OWNER}</Owner><StorageClass>STANDARD</StorageClass>` +
          `<Initiated>${u.initiated.toISOString()}</Initiated></Upload>`,
      )
      .join('') +
    `</ListMultipartUploadsResult>`;
  reply.code(200).header('content-type', 'application/xml').send(xml);
  return reply;
}

/**
 * 5. CompleteMultipartUpload's cost.
 *    fauxqs hashes every part's bytes again to build the multipart ETag,
 *    though each part's MD5 is its ETag, taken when the part arrived, and
 *    copies even a single part into a new buffer. On a machine where the
 *    emulator shares the cores with the uploader, that second MD5 pass over
 *    every byte made a multipart upload cost the machine twice what a
 *    PutObject of the same bytes costs, which S3 does on its own machines.
 *    The same checks and the same ETag (MD5 of the parts' MD5s, "-N") are
 *    computed from the parts' ETags instead, and a one-part object keeps
 *    the part's buffer.
 */
export function fastMultipartComplete(s3Store) {
  const noSuchUpload = () =>
    new S3Error(
      'NoSuchUpload',
      'The specified multipart upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
      404,
    );
  const invalidPart = () =>
    new S3Error(
      'InvalidPart',
      "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
      400,
    );
  s3Store.completeMultipartUpload = function completeMultipartUpload(uploadId, partSpecs) {
    const upload = this.multipartUploads.get(uploadId);
    if (!upload) throw noSuchUpload();
    const objects = this.buckets.get(upload.bucket);
    if (!objects) throw new S3Error('NoSuchBucket', `The specified bucket does not exist: ${upload.bucket}`, 404);
    for (let i = 1; i < partSpecs.length; i++) {
      if (partSpecs[i].partNumber <= partSpecs[i - 1].partNumber) {
        throw new S3Error('InvalidPartOrder', 'The list of parts was not in ascending order. The parts list must be specified in order by part number.', 400);
      }
    }
    const bodies = [];
    const digests = [];
    for (const spec of partSpecs) {
      const part = upload.parts.get(spec.partNumber);
      if (!part) throw invalidPart();
      const partEtag = part.etag.replaceAll('"', '');
      if (String(spec.etag).replaceAll('"', '') !== partEtag) throw invalidPart();
      bodies.push(part.body);
      digests.push(Buffer.from(partEtag, 'hex'));
    }
    const MIN_PART_SIZE = 5 * 1024 * 1024;
    for (let i = 0; i < bodies.length - 1; i++) {
      if (bodies[i].length < MIN_PART_SIZE) throw new S3Error('EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed size', 400);
    }
    const body = bodies.length === 1 ? bodies[0] : Buffer.concat(bodies);
    const etag = `"${createHash('md5').update(Buffer.concat(digests)).digest('hex')}-${partSpecs.length}"`;
    const obj = {
      key: upload.key,
      body,
      contentType: upload.contentType,
      contentLength: body.length,
      etag,
      lastModified: new Date(),
      metadata: upload.metadata,
    };
    objects.set(upload.key, obj);
    this.multipartUploads.delete(uploadId);
    this.multipartUploadsByBucket.get(upload.bucket)?.delete(uploadId);
    if (this.spy) {
      this.spy.addMessage({ service: 's3', bucket: upload.bucket, key: upload.key, status: 'uploaded', timestamp: Date.now() });
    }
    return obj;
  };
}
