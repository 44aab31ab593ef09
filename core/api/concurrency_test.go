package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"testing"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/vigilmon/vigil/internal/concurrencytest"
	"github.com/vigilmon/vigil/internal/testfixture"
)

// TestConcurrentRequestsAnswerAsAlone sends the range and instant queries
// of a dashboard over HTTP from 16 clients at once, with the store's
// samples in the head, sealed and both, and requires every response body
// to equal the body of the same request sent alone. A query whose memory
// goes back to the engine's pools before its response is written gives
// another query's numbers here.
func TestConcurrentRequestsAnswerAsAlone(t *testing.T) {
	engine := testfixture.Engine(t)
	for _, layout := range testfixture.Layouts {
		t.Run(string(layout), func(t *testing.T) {
			db, demo := testfixture.DemoStore(t, layout)
			mux := http.NewServeMux()
			New(Sources{Engine: engine, Store: db, Version: "test"}).Register(mux)
			srv := httptest.NewServer(mux)
			defer srv.Close()
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
			defer client.CloseIdleConnections()

			calls := map[string]concurrencytest.Call{}
			for _, expr := range demo.Queries {
				rangeParams := url.Values{
					"query": {expr},
					"start": {strconv.FormatInt(demo.Start.Unix(), 10)},
					"end":   {strconv.FormatInt(demo.End.Unix(), 10)},
					"step":  {demo.Step.String()},
				}
				calls["range "+expr] = func() ([]byte, error) { return getBody(client, srv.URL+"/api/v1/query_range?"+rangeParams.Encode()) }
				instantParams := url.Values{"query": {expr}, "time": {strconv.FormatInt(demo.End.Unix(), 10)}}
				calls["instant "+expr] = func() ([]byte, error) {
					b, err := getBody(client, srv.URL+"/api/v1/query?"+instantParams.Encode())
					if err != nil {
						return nil, err
					}
					return sortVector(b)
				}
			}
			span := url.Values{"start": {strconv.FormatInt(demo.Start.Unix(), 10)}, "end": {strconv.FormatInt(demo.End.Unix(), 10)}}
			for name, path := range map[string]string{
				"series":       "/api/v1/series?match[]=demo_cpu_usage_seconds_total&match[]={le=\"0.5\"}&",
				"labels":       "/api/v1/labels?",
				"label values": "/api/v1/label/instance/values?match[]={job=\"demo\"}&",
			} {
				calls[name] = func() ([]byte, error) { return getBody(client, srv.URL+path+span.Encode()) }
			}
			concurrencytest.Compare(t, 16, 6, calls)
		})
	}
}

// TestConcurrentFederation scrapes /federate from 16 clients at once, in
// the text and the protobuf format, and requires every body to equal the
// body of the same request alone.
func TestConcurrentFederation(t *testing.T) {
	db, _ := testfixture.RecentDemoStore(t, testfixture.Mixed)
	mux := http.NewServeMux()
	New(Sources{Store: db, ExternalLabels: func() labels.Labels { return labels.FromStrings("cluster", "demo") }}).Register(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	defer client.CloseIdleConnections()

	calls := map[string]concurrencytest.Call{}
	text, protobuf := "text/plain;version=0.0.4", "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited"
	for _, c := range []struct{ format, accept, match string }{
		{"text", text, `{job="demo"}`},
		{"text", text, `demo_memory_usage_bytes`},
		{"protobuf", protobuf, `{job="demo"}`},
		// Native histograms are federated in the protobuf format only.
		{"protobuf", protobuf, `demo_request_latency_seconds`},
	} {
		u := srv.URL + "/federate?" + url.Values{"match[]": {c.match}}.Encode()
		calls[c.format+" "+c.match] = func() ([]byte, error) {
			req, err := http.NewRequest(http.MethodGet, u, nil)
			if err != nil {
				return nil, err
			}
			req.Header.Set("Accept", c.accept)
			resp, err := client.Do(req)
			if err != nil {
				return nil, err
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			if err == nil && (resp.StatusCode != http.StatusOK || len(b) == 0) {
				err = fmt.Errorf("status %d, %d bytes: %s", resp.StatusCode, len(b), b)
			}
			return b, err
		}
	}
	concurrencytest.Compare(t, 16, 10, calls)
}

// sortVector puts the samples of an instant query's vector in the order
// of their JSON text. Upstream's engine gives them in no set order (an
// aggregation's groups come from a map, as in Prometheus), so only the
// set of samples, each bit for bit, is compared.
func sortVector(body []byte) ([]byte, error) {
	var resp struct {
		Status string `json:"status"`
		Data   struct {
			ResultType string            `json:"resultType"`
			Result     []json.RawMessage `json:"result"`
		} `json:"data"`
	}
	if !bytes.Contains(body, []byte(`"resultType":"vector"`)) {
		return body, nil
	}
	if err := json.Unmarshal(body, &resp); err != nil {
		return nil, fmt.Errorf("cannot decode %s: %w", body, err)
	}
	slices.SortFunc(resp.Data.Result, func(a, b json.RawMessage) int { return bytes.Compare(a, b) })
	return json.Marshal(resp)
}

// getBody returns the body of a GET that answers 200.
func getBody(client *http.Client, u string) ([]byte, error) {
	resp, err := client.Get(u)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("status %d: %s", resp.StatusCode, b)
	}
	return b, nil
}
