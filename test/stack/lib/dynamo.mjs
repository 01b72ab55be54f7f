// DynamoDB for the stack: dynalite, plus the two operations it lacks and
// photofinish uses, TransactWriteItems and TransactGetItems.
//
// dynalite (4.0.0) knows BatchGetItem, BatchWriteItem, CreateTable,
// DeleteItem, DeleteTable, DescribeTable, DescribeTimeToLive, GetItem,
// ListTables, PutItem, Query, Scan, TagResource, UntagResource,
// ListTagsOfResource, UpdateItem, UpdateTable; anything else is answered
// with UnknownOperationException.
//
// Transactions are built on dynalite's own operations and its own
// condition-expression evaluator. All requests to this server are
// serialized (one at a time), so a transaction is atomic and isolated:
//   1. every condition is evaluated against the current items (nothing is
//      written when one fails: TransactionCanceledException with one
//      CancellationReason per item, as DynamoDB reports them);
//   2. the writes are applied in order; if dynalite rejects one (e.g. a
//      ValidationException), the ones already applied are rolled back.
// ClientRequestToken makes a TransactWriteItems idempotent for 10 minutes.
import { createRequire } from 'node:module';
import { EventEmitter } from 'node:events';
import { createHash, randomBytes } from 'node:crypto';
import zlib from 'node:zlib';

const require = createRequire(import.meta.url);
const dynalite = require('dynalite');
const validations = require('dynalite/validations/index.js');
const db = require('dynalite/db/index.js');

const API = 'DynamoDB_20120810';
const MAX_REQUEST_BYTES = 16 * 1024 * 1024;
const MAX_TRANSACT_ITEMS = 100;
const TOKEN_TTL_MS = 10 * 60 * 1000;
const INTERNAL_AUTH =
  'AWS4-HMAC-SHA256 Credential=photofinish/20200101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0';

function requestId() {
  return randomBytes(39).toString('base64').toUpperCase().replace(/\+|\//g, '0');
}

class ApiError {
  constructor(status, type, message, extra = {}) {
    this.status = status;
    this.body = { __type: type, message, ...extra };
  }
}

const validation = (message) => new ApiError(400, 'com.amazon.coral.validate#ValidationException', message);

// One-at-a-time execution of async functions, in arrival order.
function serializer() {
  let tail = Promise.resolve();
  return (fn) => {
    const run = tail.then(fn, fn);
    tail = run.then(
      () => {},
      () => {},
    );
    return run;
  };
}

function fakeRequest(headers, method, url) {
  const req = new EventEmitter();
  req.headers = headers;
  req.method = method;
  req.url = url;
  return req;
}

export function createDynamo(options = {}) {
  const server = dynalite(options);
  const [handler] = server.listeners('request');
  server.removeAllListeners('request');
  const exclusive = serializer();
  const tokens = new Map(); // ClientRequestToken -> { digest, at }

  // Runs an operation on dynalite in-process (no lock: callers hold it).
  function call(op, payload) {
    return new Promise((resolve) => {
      const body = Buffer.from(JSON.stringify(payload));
      const req = fakeRequest(
        {
          'content-type': 'application/x-amz-json-1.0',
          'x-amz-target': `${API}.${op}`,
          'x-amz-date': '20200101T000000Z',
          authorization: INTERNAL_AUTH,
        },
        'POST',
        '/',
      );
      const res = {
        statusCode: 200,
        setHeader() {},
        getHeader() {},
        removeHeader() {},
        end(text) {
          let parsed = {};
          try {
            parsed = text ? JSON.parse(text) : {};
          } catch {
            parsed = { __type: 'InternalFailure', message: String(text) };
          }
          resolve({ status: this.statusCode, body: parsed });
        },
      };
      handler(req, res);
      process.nextTick(() => {
        req.emit('data', body);
        req.emit('end');
      });
    });
  }

  async function ok(op, payload) {
    const r = await call(op, payload);
    if (r.status !== 200) throw new ApiError(r.status, r.body.__type, r.body.message, r.body);
    return r.body;
  }

  async function describeKeys(tableNames) {
    const keys = {};
    for (const TableName of tableNames) {
      const { Table } = await ok('DescribeTable', { TableName });
      keys[TableName] = Table.KeySchema.map((k) => k.AttributeName);
    }
    return keys;
  }

  function keyOf(kind, op, keyNames) {
    const source = kind === 'Put' ? op.Item : op.Key;
    if (!source || typeof source !== 'object') throw validation(`${kind}: the item key is missing`);
    const key = {};
    for (const name of keyNames) {
      if (source[name] === undefined) {
        throw validation('One of the required keys was not given a value');
      }
      key[name] = source[name];
    }
    if (kind !== 'Put' && Object.keys(source).length !== keyNames.length) {
      throw validation('The provided key element does not match the schema');
    }
    return key;
  }

  async function transactWrite(data) {
    const items = data?.TransactItems;
    if (!Array.isArray(items) || items.length === 0) {
      throw validation("1 validation error detected: Value null at 'transactItems' failed to satisfy constraint: Member must not be null");
    }
    if (items.length > MAX_TRANSACT_ITEMS) {
      throw validation(
        `1 validation error detected: Value '[...]' at 'transactItems' failed to satisfy constraint: Member must have length less than or equal to ${MAX_TRANSACT_ITEMS}`,
      );
    }

    let digest;
    if (data.ClientRequestToken !== undefined) {
      const now = Date.now();
      for (const [t, v] of tokens) if (now - v.at > TOKEN_TTL_MS) tokens.delete(t);
      digest = createHash('sha256').update(JSON.stringify(items)).digest('hex');
      const seen = tokens.get(data.ClientRequestToken);
      if (seen) {
        if (seen.digest !== digest) {
          throw new ApiError(
            400,
            'com.amazonaws.dynamodb.v20120810#IdempotentParameterMismatchException',
            'Specified idempotency token does not match the request parameters',
          );
        }
        return {};
      }
    }

    const ops = items.map((item) => {
      const kinds = ['ConditionCheck', 'Put', 'Delete', 'Update'].filter((k) => item?.[k] != null);
      if (kinds.length !== 1) {
        throw validation('TransactItems can only contain one of Check, Put, Update or Delete');
      }
      const kind = kinds[0];
      const op = item[kind];
      if (typeof op.TableName !== 'string') throw validation(`${kind}: TableName is required`);
      if (kind === 'ConditionCheck' && op.ConditionExpression == null) {
        throw validation('ConditionCheck: ConditionExpression is required');
      }
      if (kind === 'Update' && op.UpdateExpression == null) {
        throw validation('Update: UpdateExpression is required');
      }
      return { kind, op };
    });

    const keyNames = await describeKeys([...new Set(ops.map((o) => o.op.TableName))]);
    const seenKeys = new Set();
    for (const o of ops) {
      o.key = keyOf(o.kind, o.op, keyNames[o.op.TableName]);
      const id = JSON.stringify([o.op.TableName, keyNames[o.op.TableName].map((n) => o.key[n])]);
      if (seenKeys.has(id)) {
        throw validation('Transaction request cannot include multiple operations on one item');
      }
      seenKeys.add(id);
    }

    // Phase 1: the current items and every condition.
    const reasons = [];
    let cancelled = false;
    for (const o of ops) {
      const got = await ok('GetItem', { TableName: o.op.TableName, Key: o.key, ConsistentRead: true });
      o.old = got.Item;
      if (o.op.ConditionExpression == null) {
        reasons.push({ Code: 'None' });
        continue;
      }
      const expr = {
        ConditionExpression: o.op.ConditionExpression,
        ExpressionAttributeNames: o.op.ExpressionAttributeNames,
        ExpressionAttributeValues: o.op.ExpressionAttributeValues,
        UpdateExpression: o.kind === 'Update' ? o.op.UpdateExpression : undefined,
      };
      const msg = validations.validateExpressions(expr);
      if (msg) throw validation(msg);
      if (db.checkConditional(expr, o.old)) {
        cancelled = true;
        const reason = { Code: 'ConditionalCheckFailed', Message: 'The conditional request failed' };
        if (o.op.ReturnValuesOnConditionCheckFailure === 'ALL_OLD' && o.old) reason.Item = o.old;
        reasons.push(reason);
      } else {
        reasons.push({ Code: 'None' });
      }
    }
    if (cancelled) {
      throw new ApiError(
        400,
        'com.amazonaws.dynamodb.v20120810#TransactionCanceledException',
        `Transaction cancelled, please refer cancellation reasons for specific reasons [${reasons.map((r) => r.Code).join(', ')}]`,
        { CancellationReasons: reasons },
      );
    }

    // Phase 2: the writes; undone if one is rejected.
    const applied = [];
    try {
      for (const o of ops) {
        if (o.kind === 'ConditionCheck') continue;
        const { ReturnValuesOnConditionCheckFailure: _ignored, ...payload } = o.op;
        await ok({ Put: 'PutItem', Delete: 'DeleteItem', Update: 'UpdateItem' }[o.kind], payload);
        applied.push(o);
      }
    } catch (err) {
      for (const o of applied.reverse()) {
        if (o.old) await call('PutItem', { TableName: o.op.TableName, Item: o.old });
        else await call('DeleteItem', { TableName: o.op.TableName, Key: o.key });
      }
      throw err;
    }
    if (digest) tokens.set(data.ClientRequestToken, { digest, at: Date.now() });
    return {};
  }

  async function transactGet(data) {
    const items = data?.TransactItems;
    if (!Array.isArray(items) || items.length === 0 || items.length > MAX_TRANSACT_ITEMS) {
      throw validation(`TransactItems must hold 1 to ${MAX_TRANSACT_ITEMS} items`);
    }
    const responses = [];
    for (const item of items) {
      const get = item?.Get;
      if (!get || typeof get.TableName !== 'string' || !get.Key) throw validation('Each item needs a Get with TableName and Key');
      const got = await ok('GetItem', {
        TableName: get.TableName,
        Key: get.Key,
        ConsistentRead: true,
        ...(get.ProjectionExpression ? { ProjectionExpression: get.ProjectionExpression } : {}),
        ...(get.ExpressionAttributeNames ? { ExpressionAttributeNames: get.ExpressionAttributeNames } : {}),
      });
      responses.push(got.Item ? { Item: got.Item } : {});
    }
    return { Responses: responses };
  }

  function send(res, status, body) {
    const text = JSON.stringify(body);
    res.statusCode = status;
    res.setHeader('x-amzn-RequestId', requestId());
    if (zlib.crc32) res.setHeader('x-amz-crc32', String(zlib.crc32(text)));
    res.setHeader('Content-Type', 'application/x-amz-json-1.0');
    res.setHeader('Content-Length', Buffer.byteLength(text));
    res.end(text);
  }

  async function ownOperation(op, req, res, body) {
    const auth = req.headers.authorization;
    if (!auth || !auth.trim().startsWith('AWS4-')) {
      send(res, 400, {
        __type: 'com.amazon.coral.service#MissingAuthenticationTokenException',
        message: 'Request is missing Authentication Token',
      });
      return;
    }
    let data;
    try {
      data = JSON.parse(body.toString('utf8'));
    } catch {
      send(res, 400, { __type: 'com.amazon.coral.service#SerializationException' });
      return;
    }
    try {
      send(res, 200, op === 'TransactWriteItems' ? await transactWrite(data) : await transactGet(data));
    } catch (err) {
      if (err instanceof ApiError) send(res, err.status, err.body);
      else send(res, 500, { __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError', message: String(err?.message ?? err) });
    }
  }

  server.on('request', (req, res) => {
    const chunks = [];
    let size = 0;
    let tooLarge = false;
    req.on('error', () => {}); // client went away: nothing to answer
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > MAX_REQUEST_BYTES) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on('end', () => {
      if (tooLarge) {
        res.statusCode = 413;
        res.end();
        return;
      }
      const body = Buffer.concat(chunks);
      const [api, op] = String(req.headers['x-amz-target'] ?? '').split('.');
      exclusive(
        () =>
          new Promise((resolve) => {
            res.once('close', resolve);
            res.once('finish', resolve);
            if (req.method === 'POST' && api === API && (op === 'TransactWriteItems' || op === 'TransactGetItems')) {
              ownOperation(op, req, res, body).catch(resolve);
              return;
            }
            // dynalite itself, fed the body we already read.
            const fake = fakeRequest(req.headers, req.method, req.url);
            handler(fake, res);
            process.nextTick(() => {
              if (body.length) fake.emit('data', body);
              fake.emit('end');
            });
          }),
      );
    });
  });

  return server;
}
