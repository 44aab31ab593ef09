// Command wasmprecompile compiles Wasm modules into a compilation cache,
// for tests: under the race detector, compiling a module of the size Go
// produces takes minutes, and a test binary built without it does so in
// seconds. Run it with the wazero version the test binary reports, as
// -ldflags=-X=github.com/tetratelabs/wazero/internal/version.version=V,
// so the cache entries match.
//
//	wasmprecompile -cache DIR module.wasm...
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"sync"

	"github.com/vigilmon/vigil/core/pluginhost"
)

func main() {
	cache := flag.String("cache", "", "the compilation cache directory")
	flag.Parse()
	var (
		wg     sync.WaitGroup
		failed bool
		mu     sync.Mutex
	)
	for _, path := range flag.Args() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := pluginhost.PrecompileWasm(context.Background(), path, *cache); err != nil {
				mu.Lock()
				failed = true
				mu.Unlock()
				fmt.Fprintln(os.Stderr, err)
			}
		}()
	}
	wg.Wait()
	if failed {
		os.Exit(1)
	}
}
