//go:build cshared

// The zoo workload as a Go c-shared library (go build -tags cshared -buildmode=c-shared), for a
// C host (cshost/host.c): the Go heap then belongs to a C process, and the Go ELF that says so
// is a mapped library, not the program.
package main

import "C"

//export ZooStart
func ZooStart(mib, goroutines, threads C.int) {
	setup(int(mib), int(goroutines), int(threads))
}

// ZooStats returns the accounting as a C string (malloc'ed; the caller frees it).
//
//export ZooStats
func ZooStats() *C.char {
	return C.CString(string(statsJSON()))
}

func main() {}
