// Shared by the dashboard benchmarks (dashboard.mjs, map_layout.mjs): their command line
// (BUILD_DIR [N_VMAS]), the environment the e2e library reads, and the many_vmas process.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { resolve, join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

// argv BUILD_DIR [N_VMAS] (default ../build, 60000); sets VMSCOPE_BIN/HELPERS/WEB when unset and
// loads tests/e2e/lib.mjs; exits 2 naming what is missing (name: the benchmark's, for the
// message). Returns {here, build, nvmas, lib}.
export async function benchSetup(name) {
  const here = dirname(fileURLToPath(import.meta.url));
  const build = resolve(process.argv[2] || join(here, '../build'));
  const nvmas = Number(process.argv[3] || 60000);
  process.env.VMSCOPE_BIN ||= join(build, 'vmscope');
  process.env.VMSCOPE_HELPERS ||= join(build, 'tests');
  process.env.VMSCOPE_WEB ||= join(here, '../web');
  const lib = await import('../tests/e2e/lib.mjs');
  const missing = lib.missingPrerequisites();
  if (missing.length) {
    console.error(`${name} bench: missing ${missing.join(', ')}`);
    process.exit(2);
  }
  return { here, build, nvmas, lib };
}

// Start BUILD/bench/many_vmas N (N single-page VMAs, alive 600 s) and wait for its READY line:
// {pid, proc} (proc.kill() ends it).
export async function startManyVmas(build, n) {
  const proc = spawn(join(build, 'bench/many_vmas'), [String(n), '600'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const ready = await new Promise((res, rej) => {
    const rl = createInterface({ input: proc.stdout });
    rl.on('line', (l) => { if (l.startsWith('READY')) res(l); });
    proc.on('exit', (c) => rej(new Error(`many_vmas exited ${c}`)));
  });
  return { pid: Number(ready.match(/pid=(\d+)/)[1]), proc };
}
