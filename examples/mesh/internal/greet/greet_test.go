package greet

import "testing"

func TestLine(t *testing.T) {
	if got, want := Line("alpha", "cli", "v1"), "alpha (cli) v1"; got != want {
		t.Fatalf("Line() = %q, want %q", got, want)
	}
}
