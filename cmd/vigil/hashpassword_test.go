package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

func TestHashPassword(t *testing.T) {
	hash := func(stdin string, args ...string) (int, string, string) {
		var stdout, stderr bytes.Buffer
		cmd := newRootCommand(&stdout, &stderr)
		cmd.SetIn(strings.NewReader(stdin))
		cmd.SetArgs(append([]string{"hash-password"}, args...))
		err := cmd.ExecuteContext(context.Background())
		var usage usageError
		switch {
		case err == nil:
			return exitOK, stdout.String(), ""
		case errors.As(err, &usage):
			return exitUsage, stdout.String(), err.Error()
		}
		return exitFailure, stdout.String(), err.Error()
	}
	code, out, errOut := hash("alice-pass\n", "--cost", "4")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	h := strings.TrimSpace(out)
	if err := bcrypt.CompareHashAndPassword([]byte(h), []byte("alice-pass")); err != nil {
		t.Errorf("%q is not the hash of alice-pass: %v", h, err)
	}
	if cost, _ := bcrypt.Cost([]byte(h)); cost != 4 {
		t.Errorf("cost %d, want 4", cost)
	}
	if _, out, _ := hash("ci-token", "--token"); out != "948b8c2427cd29047839b8e4a27a08763f8befbafa86be5cce8e46217d75e58a\n" {
		t.Errorf("--token printed %q", out)
	}
	if code, _, errOut := hash("\n"); code != exitFailure || !strings.Contains(errOut, "empty") {
		t.Errorf("an empty password: exit %d, %q", code, errOut)
	}
	if code, _, errOut := hash("x\n", "--cost", "99"); code != exitUsage || !strings.Contains(errOut, "--cost must be between 4 and 31, got 99") {
		t.Errorf("--cost 99: exit %d, %q", code, errOut)
	}
}
