// Zoo program for vmscope's V8 recogniser test (tests/integration/test_heap_node.py).
// Allocates about 100 MiB of small JS objects (old space after a few scavenges), a few large
// arrays (large-object space) and some code, then prints ONE JSON line with V8's own
// accounting: v8.getHeapSpaceStatistics(), v8.getHeapStatistics() and process.memoryUsage().
// Answers "stats" on stdin with a fresh line; exits on EOF or SIGTERM.
'use strict';
const v8 = require('v8');
const readline = require('readline');

const MIB = 1 << 20;
const target = (Number(process.argv[2]) || 100) * MIB;

// Small objects: each about 64 bytes (header, 3 fields, a short string shared).
const keep = [];
let bytes = 0;
while (bytes < target) {
	const chunk = new Array(10000);
	for (let i = 0; i < chunk.length; i++)
		chunk[i] = {a: i, b: i * 2, c: 'x' + (i & 255), d: null};
	keep.push(chunk);
	bytes += 10000 * 64;
}

// Large arrays: large-object space (anything over kMaxRegularHeapObjectSize, 128 KiB).
const big = [];
for (let k = 0; k < 8; k++)
	big.push(new Array(300000).fill(k + 0.5)); // 2.4 MB of unboxed doubles each, on the V8 heap

// Some code: functions compiled by the baseline compiler land in code space.
const fns = [];
for (let k = 0; k < 200; k++) {
	const f = new Function('x', `let s = ${k}; for (let i = 0; i < x; i++) s += i * ${k}; return s;`);
	for (let r = 0; r < 50; r++) f(100);
	fns.push(f);
}

function stats() {
	const spaces = {};
	for (const s of v8.getHeapSpaceStatistics())
		spaces[s.space_name] = {
			space_size: s.space_size,
			space_used_size: s.space_used_size,
			space_available_size: s.space_available_size,
			physical_space_size: s.physical_space_size,
		};
	return JSON.stringify({
		pid: process.pid,
		node: process.version,
		v8: process.versions.v8,
		objects: keep.length * 10000,
		large_arrays: big.length,
		spaces,
		heap: v8.getHeapStatistics(),
		memory: process.memoryUsage(),
	});
}

process.on('SIGTERM', () => process.exit(0));
console.log(stats());
const rl = readline.createInterface({input: process.stdin});
rl.on('line', (line) => {
	if (line.trim() === 'stats')
		console.log(stats());
});
rl.on('close', () => process.exit(0));
