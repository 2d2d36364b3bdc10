#!/usr/bin/env node
import { launch } from '../dist/cli/launch.js';

// `troupe export | head` closes the pipe early: stop writing quietly instead of crashing.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e) => {
    if (e.code !== 'EPIPE' && e.code !== 'ERR_STREAM_DESTROYED') throw e;
  });
}

process.exitCode = await launch(process.argv.slice(2));
