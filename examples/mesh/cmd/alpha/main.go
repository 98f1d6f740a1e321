// Command alpha is one of the mesh example's binaries (cli).
package main

import (
	"fmt"

	"example.com/mesh/internal/greet"
	"example.com/mesh/internal/version"
)

func main() {
	fmt.Println(greet.Line("alpha", "cli", version.Version))
}
