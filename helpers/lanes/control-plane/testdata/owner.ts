// A process that owns one server (a long sleep) and prints its pid, for process.test.ts to kill.
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManagedProcess } from '../process.ts';

const p = ManagedProcess.spawn({
  name: 'sleep',
  binary: '/bin/sleep',
  args: ['1000'],
  env: {},
  cwd: tmpdir(),
  logFile: join(tmpdir(), `owner-${process.pid}.log`),
});
process.stdout.write(`${p.pid}\n`);
setInterval(() => {}, 1000);
