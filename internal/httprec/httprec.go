// Package httprec records the status code a handler writes, for the
// middleware that reports it: the server's request metrics and the audit
// log. Start with New.
package httprec

import "net/http"

// Recorder is an http.ResponseWriter that remembers the status code
// written through it.
type Recorder struct {
	http.ResponseWriter
	// Status is the code written, 200 until one is.
	Status int
}

// New returns a Recorder writing to w.
func New(w http.ResponseWriter) *Recorder {
	return &Recorder{ResponseWriter: w, Status: http.StatusOK}
}

// WriteHeader remembers code and writes it.
func (r *Recorder) WriteHeader(code int) {
	r.Status = code
	r.ResponseWriter.WriteHeader(code)
}

// Flush lets streaming handlers (pprof, federation) flush through.
func (r *Recorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap gives http.ResponseController the writer underneath.
func (r *Recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
