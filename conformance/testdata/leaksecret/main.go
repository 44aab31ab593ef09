// Command leaksecret is a broken notifier for the conformance suite's
// tests: it refuses a token it does not like by quoting it. It fails
// plugin.sensitive-redacted only.
package main

import (
	"context"
	"strings"

	"github.com/vigilmon/vigil/sdk"
)

type notifier struct{}

func (notifier) Notify(context.Context, *sdk.Notification) error { return nil }

func main() {
	sdk.Serve(sdk.Plugin{
		Info:   sdk.Info{Name: "leaksecret", Version: "0.1.0", Description: "Quotes its secret token in errors."},
		Schema: sdk.Schema{sdk.String("token", "The API token, starting with \"tok-\".", sdk.Sensitive)},
		Notifier: func(cfg sdk.Config) (sdk.Notifier, error) {
			if t := cfg.String("token"); cfg.Has("token") && !strings.HasPrefix(t, "tok-") {
				return nil, sdk.AttributeErrorf("token", "%q does not start with \"tok-\"", t)
			}
			return notifier{}, nil
		},
	})
}
