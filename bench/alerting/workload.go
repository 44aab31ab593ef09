package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// alertName is the alertname of every alert of the workload.
const alertName = "BenchAlert"

// firingFor is how far ahead of its sending an alert's endsAt is.
const firingFor = time.Hour

// workload is the alerts both systems are fed: groups of alerts that
// share their group label, in group order, so that a batch holds whole
// groups but for the one it ends in, as a rule's alerts come together.
type workload struct {
	groups, perGroup int
	// keys are the alerts' group/instance, by index; index finds it.
	keys  []string
	index map[string]int
}

// newWorkload returns groups x perGroup alerts.
func newWorkload(groups, perGroup int) *workload {
	w := &workload{groups: groups, perGroup: perGroup, index: map[string]int{}}
	for g := range groups {
		for i := range perGroup {
			key := alertKey(groupLabel(g), instanceLabel(i))
			w.index[key] = len(w.keys)
			w.keys = append(w.keys, key)
		}
	}
	return w
}

// len is the number of alerts.
func (w *workload) len() int { return len(w.keys) }

// groupLabel is the value of the group label of group g.
func groupLabel(g int) string { return fmt.Sprintf("g%03d", g) }

// instanceLabel is the value of the instance label of the i-th alert of a
// group.
func instanceLabel(i int) string { return fmt.Sprintf("i%d", i) }

// alertKey identifies an alert by its group and instance labels, the
// labels that tell the workload's alerts apart; the receiver reads it back
// from the notifications, whose fingerprints differ between the systems.
func alertKey(group, instance string) string { return group + "/" + instance }

// labels returns the labels of alert i.
func (w *workload) labels(i int) map[string]string {
	return map[string]string{
		"alertname": alertName,
		"group":     groupLabel(i / w.perGroup),
		"instance":  instanceLabel(i % w.perGroup),
	}
}

// annotations returns the annotations of alert i.
func (w *workload) annotations(i int) map[string]string {
	return map[string]string{"summary": w.keys[i] + " is firing"}
}

// generatorURL is the generatorURL of every alert, as a Prometheus server
// sets it.
const generatorURL = "http://127.0.0.1:9090/graph?g0.expr=bench"

// postableAlert is an alert as POST /api/v2/alerts takes it, in
// Alertmanager and in Vigil.
type postableAlert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
}

// feedResult is what feeding a system measured: when the POST of each
// alert's batch began, and how long all the POSTs took.
type feedResult struct {
	sent     []time.Time
	duration time.Duration
	requests int
}

// feed posts every alert of w to baseURL/api/v2/alerts in batches of
// batch, one request after the other over one kept-alive connection. Each
// alert starts when its batch is posted and ends firingFor later.
func feed(ctx context.Context, w *workload, baseURL string, batch int) (feedResult, error) {
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 1, DisableCompression: true}}
	defer client.CloseIdleConnections()
	res := feedResult{sent: make([]time.Time, w.len())}
	began := time.Now()
	var buf bytes.Buffer
	for lo := 0; lo < w.len(); lo += batch {
		hi := min(lo+batch, w.len())
		now := time.Now()
		alerts := make([]postableAlert, 0, hi-lo)
		for i := lo; i < hi; i++ {
			alerts = append(alerts, postableAlert{
				Labels: w.labels(i), Annotations: w.annotations(i),
				StartsAt: now, EndsAt: now.Add(firingFor), GeneratorURL: generatorURL,
			})
			res.sent[i] = now
		}
		buf.Reset()
		if err := json.NewEncoder(&buf).Encode(alerts); err != nil {
			return res, fmt.Errorf("encode alerts %d to %d: %w", lo, hi-1, err)
		}
		if err := postAlerts(ctx, client, baseURL, buf.Bytes()); err != nil {
			return res, fmt.Errorf("post alerts %d to %d: %w", lo, hi-1, err)
		}
		res.requests++
	}
	res.duration = time.Since(began)
	return res, nil
}

// postAlerts posts one batch, encoded, and checks the answer is 200.
func postAlerts(ctx context.Context, client *http.Client, baseURL string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, baseURL+"/api/v2/alerts", bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("make the request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if err != nil {
		return fmt.Errorf("read the answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("answered %s: %q", resp.Status, answer)
	}
	return nil
}
