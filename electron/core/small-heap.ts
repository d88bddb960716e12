// Imported first by the CLI, the zip worker and Electron's main process: V8 keeps a smaller
// heap, at about the same speed.
// Each file of a batch leaves garbage that outlives a young-generation collection, and V8
// otherwise lets the old generation grow far past what is alive: the CLI peaked at 287 MB for
// 25 000 small files with --optimize-for-size off and 209 MB with it on (17.8 vs 18.0 s), while a
// collection at the end found ~16 MB alive. A hard heap cap is no answer: 64 MB ran out at
// 50 000 files. Set at run time because `node` takes no V8 flags from NODE_OPTIONS here and the
// app's utility process has none of its own; the flag takes effect for the heap as it grows.
import { setFlagsFromString } from 'node:v8';

setFlagsFromString('--optimize-for-size');
