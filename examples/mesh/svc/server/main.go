// Command server is one of the mesh example's binaries (svc-server).
package main

import (
	"fmt"

	"example.com/mesh/internal/greet"
	"example.com/mesh/internal/version"
)

func main() {
	fmt.Println(greet.Line("server", "svc-server", version.Version))
}
