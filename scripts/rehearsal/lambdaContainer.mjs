// One Lambda "container": loads the extracted handler once (cold start) and runs the invocations the harness
// sends over IPC, one at a time, as the Lambda runtime does.
import { createRequire } from 'node:module';
import { join } from 'node:path';

const [taskDir, handlerSpec, functionName] = process.argv.slice(2);
const [file, exported] = handlerSpec.split('.');
const handler = createRequire(join(taskDir, 'package.json'))(
  join(taskDir, `${file}.js`),
)[exported];

process.on('message', async ({ id, event, deadline }) => {
  const context = {
    functionName,
    functionVersion: 'live',
    awsRequestId: id,
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${functionName}:live`,
    memoryLimitInMB: '1024',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
  try {
    const result = await handler(event, context);
    process.send({ id, result });
  } catch (error) {
    process.send({ id, error: `${error?.name}: ${error?.message}` });
  }
});
process.send({ ready: true });
