package api

import (
	_ "embed"
	"net/http"
)

// indexPage is the page at /: a PromQL box that runs instant queries
// through the API, and links to the targets, configuration and metrics.
//
//go:embed ui/index.html
var indexPage []byte

// RegisterUI serves the page at / (exactly), and at /graph, where the
// generator URLs of alerts point, as in Prometheus: there the page runs
// the g0.expr of the link.
func RegisterUI(mux Mux) {
	page := func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(indexPage)
	}
	mux.HandleFunc("GET /{$}", page)
	mux.HandleFunc("GET /graph", page)
}
