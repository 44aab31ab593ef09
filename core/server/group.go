package server

import (
	"context"
	"errors"
	"fmt"

	"github.com/hashicorp/go-hclog"
)

// runInOrder starts the components in order, each with a context of its
// own, and waits until ctx ends or one of them returns. Then it stops
// them in the reverse order: each one's context ends and its Run returns
// before the one started before it is stopped. It returns the errors
// components returned.
func runInOrder(ctx context.Context, components []component, logger hclog.Logger) error {
	type running struct {
		name   string
		cancel context.CancelFunc
		done   chan error
	}
	var started []running
	ended := make(chan struct{}, len(components))
	for _, c := range components {
		if c.run == nil {
			continue
		}
		cctx, cancel := context.WithCancel(context.Background())
		r := running{name: c.name, cancel: cancel, done: make(chan error, 1)}
		go func() {
			err := c.run(cctx)
			r.done <- err
			ended <- struct{}{}
		}()
		started = append(started, r)
	}
	select {
	case <-ctx.Done():
	case <-ended:
	}
	var errs []error
	for i := len(started) - 1; i >= 0; i-- {
		r := started[i]
		r.cancel()
		if err := <-r.done; err != nil {
			logger.Error("component failed", "component", r.name, "error", err)
			errs = append(errs, fmt.Errorf("%s: %w", r.name, err))
		}
	}
	return errors.Join(errs...)
}
