// `ec2-runner demo`: a newcomer's first run, with nothing but this machine. Starts a sandbox,
// runs examples/hello.py on one of its instances with live output, shows the result, stops.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { createEngine, type Engine } from '../core';
import { startSandbox, type Sandbox } from '../sandbox';
import { EXIT } from './exitCodes';
import type { Streams } from './printer';
import { colorEnabled, styles } from './styles';

const DEMO_SCRIPT = join('examples', 'hello.py');

/** examples/hello.py next to the package (dist/cli.js or out/src/cli/demo.js), else under the cwd. */
function findDemoScript(): string | undefined {
  for (let dir = __dirname; ; dir = dirname(dir)) {
    if (existsSync(join(dir, DEMO_SCRIPT))) return join(dir, DEMO_SCRIPT);
    if (dirname(dir) === dir) break;
  }
  const local = join(process.cwd(), DEMO_SCRIPT);
  return existsSync(local) ? local : undefined;
}

export async function demoCommand(streams: Streams): Promise<number> {
  const s = styles(colorEnabled(streams.stderr as { isTTY?: boolean }));
  const say = (line = '') => streams.stderr.write(`${line}\n`);
  const scriptPath = findDemoScript();
  if (!scriptPath) {
    say(`ec2-runner: cannot find ${DEMO_SCRIPT}; run the demo from the ec2-runner source tree.`);
    return EXIT.config;
  }
  say(s.bold('EC2 Runner demo'));
  say(s.dim('Starting a local sandbox: SSM + S3 on 127.0.0.1, "instances" that run commands on this machine...'));
  let sandbox: Sandbox | undefined;
  let engine: Engine | undefined;
  try {
    sandbox = await startSandbox({});
    const info = sandbox.info;
    engine = createEngine({
      endpointUrl: info.endpoint,
      region: info.region,
      credentials: { accessKeyId: info.accessKeyId, secretAccessKey: info.secretAccessKey },
      bucket: info.bucket,
    });
    const instances = await engine.listInstances();
    say(`Sandbox at ${s.cyan(info.endpoint)} (region ${info.region}) with ${instances.length} managed instances:`);
    for (const i of instances) {
      const ping = i.pingStatus === 'Online' ? s.green(String(i.pingStatus)) : s.red(String(i.pingStatus));
      say(`  ${i.instanceId}  ${(i.name ?? '').padEnd(16)} ${ping}`);
    }
    const target = instances.find((i) => i.pingStatus === 'Online');
    if (!target) throw new Error('the sandbox has no Online instance');
    say();
    say(`${s.bold('$ ec2-runner run examples/hello.py')} --instance ${target.instanceId} -- demo`);
    const started = Date.now();
    const handle = await engine.start({
      source: { kind: 'file', fileName: 'hello.py', content: await readFile(scriptPath), args: ['demo'] },
      target: { kind: 'instances', instanceIds: [target.instanceId] },
      timeoutSeconds: 120,
    });
    say(s.dim(`staged hello.py to s3://${info.bucket}/, sent SSM command ${handle.commandId}; live output:`));
    handle.onOutput((chunk) => streams[chunk.stream].write(chunk.data));
    const onSigint = () => void handle.cancel().catch(() => undefined);
    process.once('SIGINT', onSigint);
    const result = await handle.wait();
    process.off('SIGINT', onSigint);
    const invocation = result.invocations[0];
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    say();
    const ok = invocation.status === 'Success';
    say(
      `${ok ? s.green('✔') : s.red('✘')} ${invocation.status}, exit code ${invocation.exitCode ?? 'none'}, ` +
        `${seconds} s, output via ${invocation.outputSource === 'live' ? 'the live channel' : 'SSM'}`,
    );
    if (invocation.reason) say(`  ${invocation.reason}`);
    say(`  result ($EC2_RUNNER_RESULT): ${s.cyan(JSON.stringify(invocation.result))}`);
    say();
    say(s.dim('Next: `ec2-runner sandbox` keeps a sandbox running; point the CLI at it with the exports it prints.'));
    return ok ? EXIT.ok : EXIT.notRun;
  } finally {
    engine?.dispose();
    await sandbox?.stop();
    say(s.dim('Sandbox stopped.'));
  }
}
