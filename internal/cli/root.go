package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
)

// DataDirEnv names the environment variable that overrides the default data
// directory for every command.
const DataDirEnv = "TUG_DATA_DIR"

// DefaultDataDir is where a tug server keeps its state.
const DefaultDataDir = "/var/lib/tug"

// NewCommand returns the command to execute for argv (os.Args): kubectl
// itself when the binary runs under the base name "kubectl" (a symlink),
// else the tug command tree. Its arguments are already set from argv.
func NewCommand(argv []string) *cobra.Command {
	var cmd *cobra.Command
	if len(argv) > 0 && filepath.Base(argv[0]) == "kubectl" {
		cmd = newKubectlCommand()
		cmd.Use = "kubectl"
	} else {
		cmd = newRootCommand()
	}
	if len(argv) > 0 {
		cmd.SetArgs(argv[1:])
	} else {
		cmd.SetArgs([]string{})
	}
	return cmd
}

func newRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "tug",
		Short: "tug runs containers with the Kubernetes API in one binary",
		Long: "tug is a container orchestrator in one binary. It serves the Kubernetes API " +
			"(kubectl and client-go work unmodified) and keeps its state in etcd.",
		SilenceUsage:  true, // errors are printed by main, usage only on request
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return fmt.Errorf("%w\nSee '%s --help'.", err, c.CommandPath())
	})
	root.AddCommand(newServerCommand(), newAgentCommand(), newKubectlCommand(), newVersionCommand(), newImageCommand())
	return root
}

// ExitCode maps an error returned by a command to the process exit code:
// the child's status for errors that carry one (kubectl exec), else 1.
func ExitCode(err error) int {
	if err == nil {
		return 0
	}
	var status interface{ ExitStatus() int }
	if errors.As(err, &status) && status.ExitStatus() > 0 {
		return status.ExitStatus()
	}
	return 1
}

// dataDirDefault is the data directory when no flag names one.
func dataDirDefault() string {
	if d := os.Getenv(DataDirEnv); d != "" {
		return d
	}
	return DefaultDataDir
}
