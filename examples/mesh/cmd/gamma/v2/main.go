// Command gamma is one of the mesh example's binaries (gamma-v2).
package main

import (
	"fmt"

	"example.com/mesh/internal/greet"
	"example.com/mesh/internal/version"
)

func main() {
	fmt.Println(greet.Line("gamma", "gamma-v2", version.Version))
}
