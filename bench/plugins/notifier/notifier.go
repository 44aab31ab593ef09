// Command notifier is the notifier plugin of the plugin benchmark
// (bench/plugins), built both ways from this one package: as a
// WebAssembly module (GOOS=wasip1 GOARCH=wasm -buildmode=c-shared, see
// main_wasip1.go) and as a gRPC plugin program (any other target, see
// main_grpc.go). The notifier logic, here, is the same in both: it posts
// a short JSON message about each notification to the configured url.
// Only the HTTP client differs: the module's goes through the host
// (sdk/wasm.HTTPClient), the program's is net/http's own.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/vigilmon/vigil/sdk"
)

// doer sends a request: an *http.Client in the program, the module's
// *wasm.Client in the module.
type doer interface {
	Do(req *http.Request) (*http.Response, error)
}

// newPlugin returns the plugin, whose notifiers post through client.
func newPlugin(client doer) sdk.Plugin {
	return sdk.Plugin{
		Info: sdk.Info{Name: "bench-notifier", Version: "0.1.0", Description: "Posts a short JSON message per notification (plugin benchmark)."},
		Schema: sdk.Schema{
			sdk.String("url", "Where to post the messages.", sdk.Required),
		},
		Notifier: func(cfg sdk.Config) (sdk.Notifier, error) {
			u, err := url.Parse(cfg.String("url"))
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return nil, sdk.AttributeErrorf("url", "is not an http or https URL")
			}
			return &notifier{url: u.String(), client: client}, nil
		},
	}
}

// notifier posts to one URL.
type notifier struct {
	url    string
	client doer
}

// message is what the notifier posts.
type message struct {
	Text   string   `json:"text"`
	Status string   `json:"status"`
	Alerts []string `json:"alerts"`
}

// Notify posts one message about n. A 4xx answer is permanent; other
// failures may be retried.
func (nt *notifier) Notify(ctx context.Context, n *sdk.Notification) error {
	m := message{Status: n.Status}
	for _, a := range n.Alerts {
		m.Alerts = append(m.Alerts, a.Labels["alertname"])
	}
	sort.Strings(m.Alerts)
	m.Text = fmt.Sprintf("[%s] %s", strings.ToUpper(n.Status), strings.Join(m.Alerts, ", "))
	body, err := json.Marshal(m)
	if err != nil {
		return sdk.Permanent(fmt.Errorf("encode the message: %w", err))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, nt.url, bytes.NewReader(body))
	if err != nil {
		return sdk.Permanent(fmt.Errorf("make the request: %w", err))
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := nt.client.Do(req)
	if err != nil {
		// Not the url.Error itself: it would quote the URL.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("post the message: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	switch {
	case resp.StatusCode/100 == 2:
		return nil
	case resp.StatusCode/100 == 4:
		return sdk.Permanent(fmt.Errorf("the receiver answered %s", resp.Status))
	}
	return fmt.Errorf("the receiver answered %s", resp.Status)
}
