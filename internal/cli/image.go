package cli

import (
	"fmt"
	"os"
	"path/filepath"

	containerd "github.com/containerd/containerd/v2/client"
	"github.com/spf13/cobra"

	ctrd "github.com/tugcluster/tug/pkg/agent/runtime/containerd"
)

// newImageCommand is `tug image`: local image management for the
// agent's containerd.
func newImageCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "image",
		Short: "Manage images in the agent's containerd",
	}
	cmd.AddCommand(newImageImportCommand())
	return cmd
}

func newImageImportCommand() *cobra.Command {
	var address, namespace string
	cmd := &cobra.Command{
		Use:   "import FILE.tar",
		Short: "Load a docker or OCI image archive into the agent's containerd namespace",
		Long: "Load a docker-save or OCI image archive into containerd, so pods can run its images " +
			"without a registry. Use '-' to read the archive from standard input.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			in := cmd.InOrStdin()
			if args[0] != "-" {
				f, err := os.Open(args[0])
				if err != nil {
					return err
				}
				defer f.Close()
				in = f
			}
			c, err := containerd.New(address)
			if err != nil {
				return fmt.Errorf("connect to containerd at %s: %w", address, err)
			}
			defer c.Close()
			names, err := ctrd.ImportArchive(cmd.Context(), c, namespace, in)
			if err != nil {
				return err
			}
			for _, n := range names {
				fmt.Fprintf(cmd.OutOrStdout(), "imported %s\n", n)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&address, "containerd-address", filepath.Join(dataDirDefault(), "containerd", "containerd.sock"), "containerd socket")
	cmd.Flags().StringVar(&namespace, "namespace", "tug", "containerd namespace of the agent")
	return cmd
}
