// Preloaded into a process (`node -r dist/scripts/bench/lib/cpu-profile-preload.js …`) to
// profile a window of its life, not its start-up or shutdown: the first SIGWINCH (Nest's
// shutdown hooks take SIGUSR2, SIGHUP…, not this one) starts the
// V8 CPU profiler, the next one writes the profile to $CPU_PROFILE_FILE (a .cpuprofile
// JSON, as `node --cpu-prof` writes; `%p` in it is the process id) and stops it. `--cpu-prof` itself is no use for the
// API: Nest's shutdown hook re-raises SIGTERM, so the process dies before it is written.
import * as fs from 'node:fs';
import { Session } from 'node:inspector';

const file = process.env.CPU_PROFILE_FILE?.replace('%p', String(process.pid));
if (file) {
  const session = new Session();
  session.connect();
  let running = false;
  process.on('SIGWINCH', () => {
    if (!running) {
      running = true;
      session.post('Profiler.enable', () =>
        session.post('Profiler.setSamplingInterval', { interval: Number(process.env.CPU_PROFILE_INTERVAL_US ?? 200) }, () => session.post('Profiler.start')),
      );
      return;
    }
    running = false;
    session.post('Profiler.stop', (err, res) => {
      if (!err) fs.writeFileSync(file, JSON.stringify(res.profile));
      session.post('Profiler.disable');
    });
  });
}
