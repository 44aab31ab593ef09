// Command wasm-notifier is a complete Vigil notifier plugin built as a
// WebAssembly module, to copy when writing your own: it posts one short
// line about each notification, {"text": "[FIRING:2] DiskFull, InstanceDown"},
// to the url of its config. README.md builds and runs it:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o bin/vigil-notifier-hello.wasm ./examples/wasm-notifier
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
	"slices"
	"strings"

	"github.com/vigilmon/vigil/sdk"
	"github.com/vigilmon/vigil/sdk/wasm"
)

// A module has no main to run: Vigil calls its exports once the init
// functions have run, so the plugin is registered here.
func init() {
	wasm.Register(sdk.Plugin{
		Info: sdk.Info{Name: "hello", Version: "0.1.0", Description: "Posts one line of JSON per notification."},
		Schema: sdk.Schema{
			sdk.String("url", "Where to post the messages: an http or https URL.", sdk.Required),
		},
		Notifier: func(cfg sdk.Config) (sdk.Notifier, error) {
			u, err := url.Parse(cfg.String("url"))
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return nil, sdk.AttributeErrorf("url", "must be an http or https URL")
			}
			return &hello{url: u.String()}, nil
		},
	})
}

// main does not run in a module.
func main() {}

// hello posts the notifications to one URL.
type hello struct {
	url string
}

// Notify posts one line about n. An error wrapped with sdk.Permanent is
// not retried: the receiver refused the message.
func (h *hello) Notify(ctx context.Context, n *sdk.Notification) error {
	body, err := json.Marshal(map[string]string{"text": text(n)})
	if err != nil {
		return sdk.Permanent(fmt.Errorf("encode the message: %w", err))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.url, bytes.NewReader(body))
	if err != nil {
		return sdk.Permanent(fmt.Errorf("make the request: %w", err))
	}
	req.Header.Set("Content-Type", "application/json")
	// The client's requests go through Vigil, to the hosts of the plugin
	// block's allow_hosts only.
	resp, err := wasm.HTTPClient().Do(req)
	if err != nil {
		// Report what went wrong without the URL, which may hold a token.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		if errors.Is(err, wasm.ErrHostNotAllowed) {
			return sdk.Permanent(fmt.Errorf("post the message: %w", err))
		}
		return fmt.Errorf("post the message: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	switch {
	case resp.StatusCode/100 == 2:
		return nil
	case resp.StatusCode/100 == 4 && resp.StatusCode != http.StatusTooManyRequests:
		return sdk.Permanent(fmt.Errorf("the receiver refused the message: %s", resp.Status))
	}
	return fmt.Errorf("the receiver answered %s", resp.Status)
}

// text is the line about n: its status, how many alerts fire, and their
// names, "[FIRING:2] DiskFull, InstanceDown" or "[RESOLVED] DiskFull".
func text(n *sdk.Notification) string {
	var names []string
	firing := 0
	for _, a := range n.Alerts {
		if a.Status == "firing" {
			firing++
		}
		if name := a.Labels["alertname"]; name != "" && !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	status := strings.ToUpper(n.Status)
	if n.Status == "firing" {
		status = fmt.Sprintf("%s:%d", status, firing)
	}
	return fmt.Sprintf("[%s] %s", status, strings.Join(names, ", "))
}
