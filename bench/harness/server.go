package harness

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// Server is an HTTP server on a port of 127.0.0.1 that the kernel picked:
// a fixture target, a receiver of notifications.
type Server struct {
	// Addr is the server's host:port.
	Addr string
	srv  *http.Server
	done chan struct{}
}

// Serve starts serving h on 127.0.0.1. An error that stops the server
// after its start is logged under name.
func Serve(name string, h http.Handler) (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen for %s: %w", name, err)
	}
	s := &Server{
		Addr: ln.Addr().String(),
		srv:  &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second},
		done: make(chan struct{}),
	}
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			Logf("%s stopped: %v", name, err)
		}
	}()
	return s, nil
}

// Close stops the server and its connections, and waits for it.
func (s *Server) Close() {
	_ = s.srv.Close()
	<-s.done
}
