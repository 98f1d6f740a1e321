// Package version holds the build version, set with -ldflags "-X".
package version

// Version is overwritten at link time by gob's ldflags in gobuild.toml.
var Version = "dev"
