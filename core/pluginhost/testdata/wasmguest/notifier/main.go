// Command notifier is a test guest: a Wasm notifier that does what the
// notification's "action" label says, to prove how the host copes.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/vigilmon/vigil/sdk"
	"github.com/vigilmon/vigil/sdk/wasm"
)

func init() {
	wasm.Register(sdk.Plugin{
		Info:   sdk.Info{Name: "test-notifier", Version: "0.1.0", Description: "Does what it is told."},
		Schema: sdk.Schema{sdk.String("prefix", "Prefixes its errors.")},
		Notifier: func(cfg sdk.Config) (sdk.Notifier, error) {
			return &notifier{prefix: cfg.String("prefix")}, nil
		},
	})
}

type notifier struct{ prefix string }

var (
	spin int
	hog  [][]byte
)

func (n *notifier) Notify(ctx context.Context, msg *sdk.Notification) error {
	a := msg.CommonAnnotations
	switch msg.CommonLabels["action"] {
	case "", "ok":
		return nil
	case "loop":
		for {
			spin++
		}
	case "sleep":
		time.Sleep(time.Hour)
		return nil
	case "alloc":
		for {
			b := make([]byte, 1<<20)
			b[len(b)-1] = 1
			hog = append(hog, b)
		}
	case "panic":
		panic("told to panic")
	case "exit":
		os.Exit(3)
	case "permanent":
		return sdk.Permanent(errors.New(n.prefix + "rejected"))
	case "retry":
		return errors.New(n.prefix + "try again")
	case "deadline":
		d, ok := ctx.Deadline()
		if !ok {
			return errors.New("the call has no deadline")
		}
		if left := d.Sub(wasm.Now()); left <= 0 || left > time.Minute {
			return fmt.Errorf("the deadline is %s away", left)
		}
		return nil
	case "log":
		wasm.Logger().Info("hello from the guest", "group", msg.GroupKey)
		return nil
	case "stderr":
		size, _ := strconv.Atoi(a["bytes"])
		line := strings.Repeat("e", 99) + "\n"
		for i := 0; i < size; i += len(line) {
			fmt.Fprint(os.Stderr, line)
		}
		return nil
	case "http":
		method := a["method"]
		if method == "" {
			method = http.MethodPost
		}
		req, err := http.NewRequestWithContext(ctx, method, a["url"], strings.NewReader(a["body"]))
		if err != nil {
			return err
		}
		req.Header.Set("X-Test", "guest")
		if a["auth"] != "" {
			req.Header.Set("Authorization", a["auth"])
		}
		resp, err := wasm.HTTPClient().Do(req)
		if err != nil && a["show_error"] != "" {
			// Show the error's shape, URL included.
			var ue *url.Error
			if !errors.As(err, &ue) {
				return fmt.Errorf("%T, not a *url.Error: %w", err, err)
			}
			return fmt.Errorf("url.Error Op=%s URL=%s Err=%w", ue.Op, ue.URL, ue.Err)
		}
		if err != nil {
			// The URL may hold a secret: report the error without it.
			var ue *url.Error
			if errors.As(err, &ue) {
				err = ue.Err
			}
			if errors.Is(err, wasm.ErrHostNotAllowed) {
				return sdk.Permanent(err)
			}
			return err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			return err
		}
		if got := fmt.Sprintf("%d %s %s", resp.StatusCode, resp.Header.Get("X-Answer"), body); got != a["want"] {
			return fmt.Errorf("got %q, want %q", got, a["want"])
		}
		return nil
	}
	return fmt.Errorf("unknown action %q", msg.CommonLabels["action"])
}

func main() {}
