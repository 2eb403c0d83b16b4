// Command tug is the single tug binary: server, CLI and (under the name
// kubectl) kubectl itself.
package main

import (
	"fmt"
	"os"

	"github.com/tugcluster/tug/internal/cli"
)

func main() {
	if err := cli.NewCommand(os.Args).Execute(); err != nil {
		fmt.Fprintf(os.Stderr, "Error: %v\n", err)
		os.Exit(cli.ExitCode(err))
	}
}
