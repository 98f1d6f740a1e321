//go:build integ

// Package api holds the telemetry API integration tests. They read testdata/
// relative to the package directory, so they must run with it as cwd.
package api

import (
	"os"
	"strings"
	"testing"
)

func TestFixtureIsTelemetry(t *testing.T) {
	data, err := os.ReadFile("testdata/fixture.txt")
	if err != nil {
		t.Fatalf("read testdata: %v", err)
	}
	if got := strings.TrimSpace(string(data)); got != "telemetry" {
		t.Fatalf("fixture = %q, want %q", got, "telemetry")
	}
}
