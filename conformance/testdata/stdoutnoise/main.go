// Command stdoutnoise is a broken notifier for the conformance suite's
// tests: it prints each notification to stdout. It fails
// plugin.stdout-clean only.
package main

import (
	"context"
	"fmt"

	"github.com/vigilmon/vigil/sdk"
)

type notifier struct{}

func (notifier) Notify(_ context.Context, n *sdk.Notification) error {
	fmt.Println("notified:", n.GroupKey, n.Status)
	return nil
}

func main() {
	sdk.Serve(sdk.Plugin{
		Info:     sdk.Info{Name: "stdoutnoise", Version: "0.1.0", Description: "Prints to stdout."},
		Notifier: func(sdk.Config) (sdk.Notifier, error) { return notifier{}, nil },
	})
}
