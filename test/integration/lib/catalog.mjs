// Reading the daemon's catalog with the AWS SDK v3 (for tests and benchmarks
// that live outside test/ and cannot resolve the SDK themselves).
import { ScanCommand } from '@aws-sdk/client-dynamodb';

/** Number of image items (sk = IMAGE) in the stack's table. */
export async function countImageItems(stack) {
  let n = 0;
  let ExclusiveStartKey;
  do {
    const r = await stack.ddb.send(new ScanCommand({
      TableName: stack.env.PHOTOFINISH_TABLE, ExclusiveStartKey, Select: 'COUNT',
      FilterExpression: 'sk = :s', ExpressionAttributeValues: { ':s': { S: 'IMAGE' } },
    }));
    n += r.Count;
    ExclusiveStartKey = r.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  return n;
}
