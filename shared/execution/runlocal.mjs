// Runs one execution of a state machine definition with aws-local-stepfunctions and prints
// one JSON line on stdout: {"status":"SUCCEEDED","output":…} or
// {"status":"FAILED"|"ABORTED","error":…,"cause":…}. Task states call Lambda through the
// library's own client (AWS SDK for JavaScript v3), which AWS_ENDPOINT_URL_LAMBDA points at
// logferry's local Invoke endpoint: errors keep their names for Retry and Catch.
//
// argv (node -e): <aws-local-stepfunctions module file> <definition file> <function ARN>; input on stdin.
// SIGTERM aborts the execution (the caller rolls back what it started).
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const [moduleFile, definitionFile, functionArn] = process.argv.slice(1);
const emit = (v) => process.stdout.write(JSON.stringify(v) + '\n');

let execution;
process.on('SIGTERM', () => execution?.abort());
process.on('SIGINT', () => {}); // the caller decides what Ctrl-C does

// stateSizes reads the execution's event log: by state name, the largest input and output
// (UTF-8 bytes of their JSON) any of its runs had, the figures Step Functions' 256 KiB
// payload limit applies to.
async function stateSizes(events) {
  const out = {};
  const bytes = (v) => Buffer.byteLength(JSON.stringify(v ?? null), 'utf8');
  for await (const e of events) {
    if (e.type !== 'StateExited') continue;
    const s = (out[e.state.name] ??= { input: 0, output: 0 });
    s.input = Math.max(s.input, bytes(e.state.input));
    s.output = Math.max(s.output, bytes(e.state.output));
  }
  return out;
}

try {
  const { StateMachine } = await import(pathToFileURL(moduleFile).href);
  const text = readFileSync(definitionFile, 'utf8');
  const definition = JSON.parse(text.replaceAll('${ReindexFunctionArn}', functionArn));
  const input = JSON.parse(readFileSync(0, 'utf8'));
  const region = functionArn.split(':')[3];
  const machine = new StateMachine(definition, {
    awsConfig: { region, credentials: { accessKeys: { accessKeyId: 'local', secretAccessKey: 'local' } } },
  });
  execution = machine.run(input, { context: { Execution: { Input: input, Name: process.env.LOGFERRY_EXECUTION_NAME ?? 'local' } } });
  const sizes = stateSizes(execution.eventLogs);
  const output = await execution.result;
  emit({ status: 'SUCCEEDED', output, states: await sizes });
} catch (e) {
  if (e?.name === 'ExecutionAbortedError') {
    emit({ status: 'ABORTED', error: e.name, cause: e.message });
  } else {
    const c = e?.name === 'ExecutionError' && e.cause ? e.cause : e;
    emit({ status: 'FAILED', error: c?.name ?? 'Error', cause: c?.message ?? String(e) });
  }
  process.exitCode = 1;
}
