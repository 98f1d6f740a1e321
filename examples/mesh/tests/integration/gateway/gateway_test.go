//go:build integ

// Package gateway checks the binaries' greeting end to end.
package gateway

import (
	"testing"

	"example.com/mesh/internal/greet"
)

func TestGatewayGreeting(t *testing.T) {
	if got := greet.Line("gateway", "integ", "dev"); got != "gateway (integ) dev" {
		t.Fatalf("greeting = %q", got)
	}
}
