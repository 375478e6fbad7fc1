import { createRequire, Module } from 'node:module';

/*
 * kinesalite keeps an in-memory stream in memdown, whose iterator hands over each record in a setImmediate of its
 * own: a GetRecords of 100 records waits for 100 turns of the event loop, which a busy stack makes seconds long
 * (npm run bench -- flashsale: 2 s per GetRecords of the orders projection during the sale). memdown takes its
 * scheduler from its `immediate.js`; this gives it `process.nextTick` instead, before kinesalite loads it. The
 * records, their order and the protocol are kinesalite's own.
 */
const require = createRequire(import.meta.url);
const memdown = createRequire(require.resolve('kinesalite')).resolve('memdown');
const immediate = createRequire(memdown).resolve('./immediate.js');
const module = new Module(immediate);
module.filename = immediate;
module.loaded = true;
module.exports = (callback: (...args: unknown[]) => void, ...args: unknown[]) => process.nextTick(callback, ...args);
require.cache[immediate] = module;
