// Command linkguest is a test module: a notifier that renders a
// text/template, which calls methods by name, and posts with
// wasm.HTTPClient, as the first-party notifiers do. TestModuleLinks
// checks what the linker keeps of net/http in it.
package main

import (
	"context"
	"net/http"
	"strings"
	"text/template"

	"github.com/vigilmon/vigil/sdk"
	"github.com/vigilmon/vigil/sdk/wasm"
)

func init() {
	wasm.Register(sdk.Plugin{
		Info: sdk.Info{Name: "linkguest", Version: "0.1.0", Description: "Posts a rendered template."},
		Notifier: func(sdk.Config) (sdk.Notifier, error) {
			return &notifier{tmpl: template.Must(template.New("t").Parse(`{{ .Status }}`))}, nil
		},
	})
}

type notifier struct{ tmpl *template.Template }

func (n *notifier) Notify(ctx context.Context, msg *sdk.Notification) error {
	var b strings.Builder
	if err := n.tmpl.Execute(&b, msg); err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://example.com/", strings.NewReader(b.String()))
	if err != nil {
		return err
	}
	resp, err := wasm.HTTPClient().Do(req)
	if err != nil {
		return err
	}
	return resp.Body.Close()
}

func main() {}
