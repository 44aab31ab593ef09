package wasm

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestModuleLinks builds testdata/linkguest as a module and checks, in
// the linker's list of what it keeps, that the module has none of
// net/http's Client and Transport, HTTP/2, the TLS client and crypto/x509's
// certificate verification, which a module cannot use.
func TestModuleLinks(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a module")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-buildmode=c-shared", "-ldflags=-dumpdep",
		"-o", filepath.Join(t.TempDir(), "linkguest.wasm"), "./testdata/linkguest")
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out.String())
	}
	kept := map[string]bool{}
	lines := 0
	for sc := bufio.NewScanner(&out); sc.Scan(); {
		// Each line is "FROM -> TO": FROM is kept, and refers to TO.
		from, _, ok := strings.Cut(sc.Text(), " -> ")
		if ok {
			kept[strings.TrimSuffix(from, " <UsedInIface>")] = true
			lines++
		}
	}
	if lines == 0 {
		t.Fatalf("the linker listed nothing:\n%s", out.String())
	}
	for _, want := range []string{"github.com/vigilmon/vigil/sdk/wasm.hostRequest", "github.com/vigilmon/vigil/sdk/wasm.do"} {
		if !kept[want] {
			t.Errorf("%s is not kept: the check reads the list wrongly", want)
		}
	}
	for sym := range kept {
		for _, unwanted := range []string{
			"net/http.(*Client).", "net/http.(*Transport).", "net/http.(*http2Transport).",
			"crypto/tls.(*Conn).", "crypto/x509.(*Certificate).Verify",
		} {
			if strings.HasPrefix(sym, unwanted) {
				t.Errorf("the module keeps %s", sym)
			}
		}
	}
}
