//go:build linux

package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gogo/protobuf/proto"
	"github.com/golang/snappy"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/prompb"
)

// mountTmpfs mounts a tmpfs of size bytes on a new folder and unmounts it
// when the test ends; it skips the test where mounting needs a privilege
// the test lacks.
func mountTmpfs(t *testing.T, size int64) string {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", fmt.Sprintf("size=%d", size), "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs, which needs root or CAP_SYS_ADMIN: %v: %s", err, bytes.TrimSpace(out))
	}
	t.Cleanup(func() {
		// Lazily: a server the test killed may still be letting go of
		// its files.
		if out, err := exec.Command("umount", "--lazy", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

// fillDisk writes a file in dir until its filesystem is full, and
// returns a function that removes it.
func fillDisk(t *testing.T, dir string) func() {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	block := make([]byte, 1<<20)
	for {
		if _, err = f.Write(block); err != nil {
			break
		}
	}
	f.Close()
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("filling the disk: %v, want ENOSPC", err)
	}
	return func() {
		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
	}
}

// TestServerSurvivesAFullDisk fills the filesystem of a server's data
// folder, a small tmpfs, to the last byte. The server keeps running: it
// says it is not ready and why, sets vigil_storage_disk_full, and answers
// remote write 503; once space is freed it takes samples again by
// itself. It refuses to start on the full disk, with one message naming
// the folder and the bytes, and starts once space is back, with every
// sample it accepted.
func TestServerSurvivesAFullDisk(t *testing.T) {
	mnt := mountTmpfs(t, 192<<20)
	data := filepath.Join(mnt, "data")
	config := writeFile(t, "vigil.hcl", fmt.Sprintf(`server {
  data_dir                     = %q
  min_free_disk                = "32MB"
  enable_remote_write_receiver = true
}
`, data))
	s := startServer(t, "--config", config)
	defer func() {
		if t.Failed() {
			t.Logf("server log:\n%s", s.logText())
		}
	}()

	// Samples of one series, a second apart: accepted holds the values
	// of those the server accepted, by timestamp.
	start := time.Now().Add(-10 * time.Minute).Truncate(time.Second)
	accepted := map[int64]float64{}
	next := 0
	write := func() int {
		t.Helper()
		ts := start.Add(time.Duration(next) * time.Second).UnixMilli()
		v := float64(next)
		next++
		raw, err := proto.Marshal(&prompb.WriteRequest{Timeseries: []prompb.TimeSeries{{
			Labels:  []prompb.Label{{Name: "__name__", Value: "disk_test"}},
			Samples: []prompb.Sample{{Timestamp: ts, Value: v}},
		}}})
		if err != nil {
			t.Fatal(err)
		}
		req, err := http.NewRequest(http.MethodPost, "http://"+s.addr+"/api/v1/write", bytes.NewReader(snappy.Encode(nil, raw)))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Encoding", "snappy")
		req.Header.Set("Content-Type", "application/x-protobuf")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		switch resp.StatusCode {
		case http.StatusNoContent:
			accepted[ts] = v
		case http.StatusServiceUnavailable:
			if !strings.Contains(string(body), "disk full") {
				t.Fatalf("remote write refused with 503: %s, which does not say the disk is full", body)
			}
		default:
			t.Fatalf("remote write: %d %s", resp.StatusCode, body)
		}
		return resp.StatusCode
	}
	get := func(path string) (int, string) {
		t.Helper()
		resp, err := http.Get("http://" + s.addr + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	running := func() {
		t.Helper()
		select {
		case err := <-s.done:
			t.Fatalf("the server ended: %v", err)
		default:
		}
	}

	for range 10 {
		if status := write(); status != http.StatusNoContent {
			t.Fatalf("remote write on an empty disk: %d", status)
		}
	}
	if status, body := get("/-/ready"); status != http.StatusOK {
		t.Fatalf("/-/ready on an empty disk: %d %s", status, body)
	}

	free := fillDisk(t, mnt)
	var ready string
	waitFor(t, "/-/ready to say the disk is full", func() bool {
		status, body := get("/-/ready")
		ready = body
		return status == http.StatusServiceUnavailable
	})
	for _, want := range []string{"disk full", data, "min_free_disk (33554432 bytes)"} {
		if !strings.Contains(ready, want) {
			t.Errorf("/-/ready says %q, not %q", ready, want)
		}
	}
	if _, metrics := get("/metrics"); !strings.Contains(metrics, "\nvigil_storage_disk_full 1\n") {
		t.Errorf("/metrics does not say vigil_storage_disk_full 1")
	}
	// The background work (sealing every second, maintenance) goes on
	// while samples keep coming: none of it may touch the full disk.
	for range 30 {
		if status := write(); status != http.StatusServiceUnavailable {
			t.Fatalf("remote write on a full disk: %d", status)
		}
		time.Sleep(100 * time.Millisecond)
	}
	running()
	if !strings.Contains(s.logText(), "disk full") {
		t.Errorf("no log line says the disk is full")
	}

	free()
	waitFor(t, "/-/ready once space is back", func() bool {
		status, _ := get("/-/ready")
		return status == http.StatusOK
	})
	for range 10 {
		if status := write(); status != http.StatusNoContent {
			t.Fatalf("remote write once space is back: %d", status)
		}
	}
	if _, metrics := get("/metrics"); !strings.Contains(metrics, `vigil_tsdb_samples_refused_total{reason="disk_full"} 30`) {
		t.Errorf("/metrics does not count the 30 samples refused for a full disk")
	}
	checkSamples := func(s *runningServer) {
		t.Helper()
		v, _, _, err := s.api(t).Query(context.Background(), `disk_test[1h]`, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		got := map[int64]float64{}
		for _, stream := range v.(model.Matrix) {
			for _, p := range stream.Values {
				got[int64(p.Timestamp)] = float64(p.Value)
			}
		}
		if len(got) != len(accepted) {
			t.Errorf("the server holds %d samples, it accepted %d", len(got), len(accepted))
		}
		for ts, v := range accepted {
			if g, ok := got[ts]; !ok || g != v {
				t.Errorf("accepted sample %d@%d is %v, %v", int64(v), ts, g, ok)
			}
		}
	}
	checkSamples(s)
	s.stop(t)

	// A start on the full disk ends at once, saying why.
	free = fillDisk(t, mnt)
	out, err := exec.Command(vigilBinary(t), "server", "--listen", "127.0.0.1:0", "--config", config).CombinedOutput()
	if err == nil {
		t.Fatalf("the server started on a full disk:\n%s", out)
	}
	for _, want := range []string{"disk full", data, "min_free_disk"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the server ended on a full disk saying %q, which does not name %q", out, want)
		}
	}
	if strings.Contains(string(out), "SIGBUS") || strings.Contains(string(out), "goroutine ") {
		t.Errorf("the server crashed on a full disk:\n%s", out)
	}

	free()
	s = startServer(t, "--config", config)
	checkSamples(s)
	s.stop(t)
}
