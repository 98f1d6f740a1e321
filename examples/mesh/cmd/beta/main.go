// Command beta is one of the mesh example's binaries (worker).
package main

import (
	"fmt"

	"example.com/mesh/internal/greet"
	"example.com/mesh/internal/version"
)

func main() {
	fmt.Println(greet.Line("beta", "worker", version.Version))
}
