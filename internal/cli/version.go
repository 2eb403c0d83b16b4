package cli

import (
	"fmt"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/tugcluster/tug/internal/version"
)

func newVersionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print tug's version and the Kubernetes API version it serves",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintf(cmd.OutOrStdout(), "tug %s\nKubernetes API %s\n%s %s/%s\n",
				version.Version, version.KubernetesVersion, runtime.Version(), runtime.GOOS, runtime.GOARCH)
			return err
		},
	}
}
