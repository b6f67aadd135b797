// The zoo's Go workload, shared by the program (main.go) and the c-shared library
// (cshared.go): a Go heap of known size, goroutines parked on their (heap-allocated) stacks,
// a few goroutines locked to OS threads, and the runtime's own accounting
// (runtime.MemStats plus the runtime/metrics memory classes) as one line of JSON.
package main

import (
	"encoding/json"
	"os"
	"runtime"
	"runtime/metrics"
)

// Set by cgo.go when it is compiled in (CGO_ENABLED=1).
var cgoEnabled bool
var cgoWork func() // called on each locked thread: C code that uses glibc malloc there

var keep [][]byte

func metric(samples []metrics.Sample, name string) uint64 {
	for _, s := range samples {
		if s.Name == name && s.Value.Kind() == metrics.KindUint64 {
			return s.Value.Uint64()
		}
	}
	return 0
}

// statsJSON is the accounting, one line of JSON without the newline.
func statsJSON() []byte {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	names := []string{
		"/memory/classes/heap/objects:bytes",
		"/memory/classes/heap/unused:bytes",
		"/memory/classes/heap/free:bytes",
		"/memory/classes/heap/released:bytes",
		"/memory/classes/heap/stacks:bytes",
		"/memory/classes/os-stacks:bytes",
		"/memory/classes/metadata/other:bytes",
		"/memory/classes/total:bytes",
	}
	samples := make([]metrics.Sample, len(names))
	for i, n := range names {
		samples[i].Name = n
	}
	metrics.Read(samples)
	out := map[string]interface{}{
		"pid":            os.Getpid(),
		"go_version":     runtime.Version(),
		"cgo":            cgoEnabled,
		"HeapSys":        m.HeapSys,
		"HeapInuse":      m.HeapInuse,
		"HeapIdle":       m.HeapIdle,
		"HeapReleased":   m.HeapReleased,
		"HeapAlloc":      m.HeapAlloc,
		"StackSys":       m.StackSys,
		"StackInuse":     m.StackInuse,
		"MSpanSys":       m.MSpanSys,
		"MCacheSys":      m.MCacheSys,
		"BuckHashSys":    m.BuckHashSys,
		"GCSys":          m.GCSys,
		"OtherSys":       m.OtherSys,
		"Sys":            m.Sys,
		"NumGoroutine":   runtime.NumGoroutine(),
		"heap_stacks":    metric(samples, "/memory/classes/heap/stacks:bytes"),
		"os_stacks":      metric(samples, "/memory/classes/os-stacks:bytes"),
		"metadata_other": metric(samples, "/memory/classes/metadata/other:bytes"),
		"total":          metric(samples, "/memory/classes/total:bytes"),
	}
	b, _ := json.Marshal(out)
	return b
}

var block = make(chan struct{})

// setup allocates mib MiB in the Go heap, parks ngo goroutines and nthr goroutines locked to
// their own OS threads, then runs a GC, so that the heap is in place when it returns.
func setup(mib, ngo, nthr int) {
	for i := 0; i < mib; i++ {
		b := make([]byte, 1<<20)
		for j := 0; j < len(b); j += 4096 {
			b[j] = byte(i + j)
		}
		keep = append(keep, b)
	}
	ready := make(chan struct{})
	for i := 0; i < ngo; i++ {
		go func(n int) {
			var pad [512]byte // a stack deeper than the minimum
			pad[n%512] = byte(n)
			ready <- struct{}{}
			<-block
			_ = pad
		}(i)
	}
	for i := 0; i < ngo; i++ {
		<-ready
	}
	for i := 0; i < nthr; i++ {
		go func() {
			runtime.LockOSThread()
			if cgoWork != nil {
				cgoWork()
			}
			ready <- struct{}{}
			<-block
		}()
	}
	for i := 0; i < nthr; i++ {
		<-ready
	}
	runtime.GC()
}
