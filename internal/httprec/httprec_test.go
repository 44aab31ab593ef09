package httprec

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestRecorder(t *testing.T) {
	w := httptest.NewRecorder()
	rec := New(w)
	if rec.Status != http.StatusOK {
		t.Errorf("status before a write: %d", rec.Status)
	}
	rec.WriteHeader(http.StatusTeapot)
	rec.Flush()
	if rec.Status != http.StatusTeapot || w.Code != http.StatusTeapot || !w.Flushed {
		t.Errorf("recorded %d, written %d, flushed %v", rec.Status, w.Code, w.Flushed)
	}
	if http.NewResponseController(rec).Flush() != nil {
		t.Error("the response controller does not reach the writer underneath")
	}
}
