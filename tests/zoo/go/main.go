//go:build !cshared

// Zoo program for tests/integration/test_heap_go.py (workload in zoo.go): prints the Go
// runtime's accounting as ONE line of JSON on stdout once its heap is in place, answers "stats"
// on stdin with a fresh line and exits on EOF.
//
// Flags: -mib N (heap to allocate, default 150), -goroutines N (default 200),
// -threads N (goroutines locked to OS threads, default 4).
// Built with CGO_ENABLED=0 (static) or CGO_ENABLED=1, which adds cgo.go (import "C"). With
// -tags cshared -buildmode=c-shared the same package is a library instead (cshared.go).
package main

import (
	"bufio"
	"flag"
	"os"
)

func main() {
	mib := flag.Int("mib", 150, "MiB to allocate in the Go heap")
	ngo := flag.Int("goroutines", 200, "goroutines parked on a channel")
	nthr := flag.Int("threads", 4, "goroutines locked to their own OS thread")
	flag.Parse()
	setup(*mib, *ngo, *nthr)
	os.Stdout.Write(append(statsJSON(), '\n'))
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		if in.Text() == "stats" {
			os.Stdout.Write(append(statsJSON(), '\n'))
		}
	}
	close(block)
}
