// DynamoDB operations of the C client (via aws_driver) against the local
// stack (dynalite), checked with the AWS SDK for JavaScript v3.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { CreateTableCommand, waitUntilTableExists } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';

import { startStack } from './lib/stack.mjs';
import { drive, driveOk, stackEnv } from './aws_driver.mjs';

let stack;
let env;
let table;

const J = (v) => JSON.stringify(v);
const key = (pk, sk) => ({ pk: { S: pk }, sk: { S: sk } });

async function sdkGet(pk, sk) {
  const r = await stack.doc.send(new GetCommand({ TableName: table, Key: { pk, sk }, ConsistentRead: true }));
  return r.Item;
}

before(async () => {
  stack = await startStack();
  env = stackEnv(stack);
  table = `pf-aws-ddb-${Date.now().toString(36)}`;
  await stack.ddb.send(
    new CreateTableCommand({
      TableName: table,
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  await waitUntilTableExists({ client: stack.ddb, maxWaitTime: 30 }, { TableName: table });
});

after(async () => {
  await stack?.stop();
});

describe('DynamoDB items', () => {
  test('PutItem, GetItem, UpdateItem, DeleteItem', async () => {
    await driveOk(['ddb-put', table, J({ ...key('IMAGE#1', 'IMAGE'), n: { N: '1' }, codes: { SS: ['A1', 'B2'] } })], env);
    assert.deepEqual(await sdkGet('IMAGE#1', 'IMAGE'), { pk: 'IMAGE#1', sk: 'IMAGE', n: 1, codes: new Set(['A1', 'B2']) });

    const got = await driveOk(['ddb-get', table, J(key('IMAGE#1', 'IMAGE')), J({ ConsistentRead: true })], env);
    assert.deepEqual(got.response.n, { N: '1' });

    const missing = await driveOk(['ddb-get', table, J(key('IMAGE#none', 'IMAGE'))], env);
    assert.equal(missing.response, undefined, 'no item: success with no response');

    const upd = await driveOk(
      ['ddb-update', table, J(key('IMAGE#1', 'IMAGE')), 'SET #n = #n + :one, #s = :s',
        J({ ExpressionAttributeNames: { '#n': 'n', '#s': 'status' }, ExpressionAttributeValues: { ':one': { N: '1' }, ':s': { S: "it's \"done\"" } }, ReturnValues: 'ALL_NEW' })],
      env,
    );
    assert.deepEqual(upd.response.Attributes.n, { N: '2' });
    assert.equal((await sdkGet('IMAGE#1', 'IMAGE')).status, 'it\'s "done"');

    await driveOk(['ddb-delete', table, J(key('IMAGE#1', 'IMAGE'))], env);
    assert.equal(await sdkGet('IMAGE#1', 'IMAGE'), undefined);
  });

  test('a failed condition is a typed conflict', async () => {
    const item = J({ ...key('COND', 'x'), v: { N: '1' } });
    const cond = J({ ConditionExpression: 'attribute_not_exists(pk)' });
    await driveOk(['ddb-put', table, item, cond], env);
    const r = await drive(['ddb-put', table, item, cond], env);
    assert.equal(r.status, 2);
    assert.equal(r.out.error.code, 'conflict');
    assert.equal(r.out.error.service_code, 'ConditionalCheckFailedException');
    assert.equal(r.out.error.http_status, 400);
    assert.equal(r.out.error.retryable, false);
    assert.ok(r.out.error.request_id);
  });

  test('the generic call sends any operation', async () => {
    const r = await driveOk(['ddb', 'DescribeTable', J({ TableName: table })], env);
    assert.equal(r.response.Table.TableName, table);
    const bad = await drive(['ddb', 'DescribeTable', J({ TableName: 'no-such-table' })], env);
    assert.equal(bad.out.error.code, 'not_found');
    assert.equal(bad.out.error.service_code, 'ResourceNotFoundException');
  });
});

describe('DynamoDB pagination and batches', () => {
  const big = 'x'.repeat(9000);

  before(async () => {
    // ~1.8 MB under one partition key: Query must page (1 MB per page)
    const items = Array.from({ length: 200 }, (_, i) => ({ pk: 'CODE#BIG', sk: String(i).padStart(4, '0'), blob: big }));
    for (let i = 0; i < items.length; i += 25) {
      await stack.doc.send(new BatchWriteCommand({ RequestItems: { [table]: items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })) } }));
    }
  });

  test('Query over 1 MB follows LastEvaluatedKey page by page', async () => {
    const params = J({ KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': { S: 'CODE#BIG' } } });
    const first = await driveOk(['ddb-query', table, params], env);
    assert.ok(first.count < 200, 'first page is cut at 1 MB');
    assert.ok(first.last_evaluated_key, 'LastEvaluatedKey returned');

    const paged = await driveOk(['ddb-query', table, params, '--pages'], env);
    assert.ok(paged.pages >= 2);
    assert.equal(paged.count, 200);
    assert.deepEqual(paged.items.map((i) => i.sk.S), Array.from({ length: 200 }, (_, i) => String(i).padStart(4, '0')));

    const all = await driveOk(['ddb-query', table, params, '--all'], env);
    assert.equal(all.count, 200);
    assert.ok(all.summary.Pages >= 2);
    assert.equal(all.last_evaluated_key, null);

    const limited = await driveOk(['ddb-query', table, J({ ...JSON.parse(params), Limit: 30 }), '--all', '--max', '50'], env);
    assert.equal(limited.count, 60, 'stops after the page that reached max');
    assert.ok(limited.last_evaluated_key);
  });

  test('Scan pages too', async () => {
    const all = await driveOk(['ddb-scan', table, J({ Limit: 70 }), '--all'], env);
    assert.ok(all.count >= 200);
    assert.ok(all.summary.Pages >= 3);
  });

  test('BatchWriteItem writes any number of requests in chunks of 25', async () => {
    const puts = Array.from({ length: 60 }, (_, i) => ({ PutRequest: { Item: { ...key('BATCH', String(i).padStart(3, '0')), i: { N: String(i) } } } }));
    const r = await driveOk(['ddb-batch-write', J({ [table]: puts })], env);
    assert.equal(r.response, undefined, 'nothing left unprocessed');
    assert.equal(r.calls.filter((c) => c.operation === 'BatchWriteItem').length, 3);
    const q = await stack.doc.send(new QueryCommand({ TableName: table, KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': 'BATCH' } }));
    assert.equal(q.Items.length, 60);

    const dels = Array.from({ length: 30 }, (_, i) => ({ DeleteRequest: { Key: key('BATCH', String(i).padStart(3, '0')) } }));
    await driveOk(['ddb-batch-write', J({ [table]: dels })], env);
    const q2 = await stack.doc.send(new QueryCommand({ TableName: table, KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': 'BATCH' } }));
    assert.equal(q2.Items.length, 30);
  });

  test('BatchWriteItem with an invalid request fails as a whole and reports what is left', async () => {
    const r = await drive(['ddb-batch-write', J({ [table]: [{ PutRequest: { Item: { pk: { S: 'no-sort-key' } } } }] })], env);
    assert.equal(r.status, 2);
    assert.equal(r.out.error.code, 'aws');
    assert.equal(r.out.error.service_code, 'ValidationException');
    assert.ok(r.out.response[table].length === 1, 'unprocessed requests handed back');
  });
});

describe('DynamoDB transactions', () => {
  test('TransactWriteItems writes all items', async () => {
    await driveOk(['ddb-transact', J([
      { Put: { TableName: table, Item: { ...key('IMAGE#t', 'IMAGE'), v: { N: '1' } } } },
      { Put: { TableName: table, Item: key('CODE#T1', '2024#t') } },
      { Put: { TableName: table, Item: key('CODE#T2', '2024#t') } },
    ])], env);
    assert.ok(await sdkGet('CODE#T1', '2024#t'));
    assert.ok(await sdkGet('CODE#T2', '2024#t'));
  });

  test('a cancelled transaction reports its reasons; ConditionalCheckFailed is a conflict', async () => {
    const r = await drive(['ddb-transact', J([
      { Put: { TableName: table, Item: key('CODE#T3', '2024#t') } },
      { ConditionCheck: { TableName: table, Key: key('IMAGE#t', 'IMAGE'), ConditionExpression: 'v = :v', ExpressionAttributeValues: { ':v': { N: '99' } } } },
    ])], env);
    assert.equal(r.status, 2);
    assert.equal(r.out.error.code, 'conflict');
    assert.equal(r.out.error.service_code, 'TransactionCanceledException');
    assert.match(r.out.error.message, /item 1: ConditionalCheckFailed/);
    assert.deepEqual(r.out.response.CancellationReasons.map((c) => c.Code), ['None', 'ConditionalCheckFailed']);
    assert.equal(await sdkGet('CODE#T3', '2024#t'), undefined, 'nothing written');
  });
});
