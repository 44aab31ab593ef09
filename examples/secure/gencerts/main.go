// Command gencerts makes the throwaway certificates of examples/secure: a
// certificate authority (ca.pem), a certificate for the server at
// 127.0.0.1 and localhost (server.pem), and a client certificate whose
// common name is ops (client.pem), each with its key, valid for a
// hundred years. Run it in the example's folder to make new ones:
//
//	cd examples/secure && go run ./gencerts
//
// They are published with Vigil, for trying and testing only: anyone can
// read their keys.
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/vigilmon/vigil/internal/certgen"
)

// validity is long, so that the example does not expire under its tests.
const validity = 100 * 365 * 24 * time.Hour

func main() {
	dir := flag.String("dir", ".", "the folder the certificates and keys are written to")
	flag.Parse()
	if err := generate(*dir); err != nil {
		fmt.Fprintln(os.Stderr, "gencerts:", err)
		os.Exit(1)
	}
}

func generate(dir string) error {
	ca, err := certgen.NewCA("Vigil example CA (throwaway)", validity)
	if err != nil {
		return err
	}
	server, err := ca.Server("127.0.0.1", []string{"127.0.0.1", "localhost", "::1"}, validity)
	if err != nil {
		return err
	}
	client, err := ca.Client("ops", validity)
	if err != nil {
		return err
	}
	for name, p := range map[string]*certgen.Pair{"ca": ca, "server": server, "client": client} {
		if err := p.Write(dir, name); err != nil {
			return err
		}
	}
	return nil
}
