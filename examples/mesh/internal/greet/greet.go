// Package greet builds the one-line greeting every mesh binary prints.
package greet

import "fmt"

// Line returns the greeting a binary prints: its name, role and version.
func Line(name, role, version string) string {
	return fmt.Sprintf("%s (%s) %s", name, role, version)
}
