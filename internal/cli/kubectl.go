package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/component-base/cli"
	kubectlcmd "k8s.io/kubectl/pkg/cmd"

	"github.com/tugcluster/tug/pkg/cluster"
)

func newKubectlCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "kubectl [kubectl arguments]",
		Short: "Run kubectl against this machine's tug server",
		Long: "Runs the real kubectl with the arguments as given. Unless KUBECONFIG or --kubeconfig " +
			"says otherwise it uses the admin kubeconfig in the data directory ($" + DataDirEnv +
			", default " + DefaultDataDir + ") when that file exists.",
		DisableFlagParsing: true,
		SilenceUsage:       true,
		SilenceErrors:      true,
		RunE: func(_ *cobra.Command, args []string) error {
			return runKubectl(args)
		},
	}
}

// runKubectl runs kubectl in this process. kubectl reads os.Args and may
// exit the process itself (its usual error handling), so this is always
// the last thing a tug invocation does.
func runKubectl(args []string) error {
	if os.Getenv("KUBECONFIG") == "" && !hasKubeconfigFlag(args) {
		if err := defaultKubeconfig(); err != nil {
			return err
		}
	}
	os.Args = append([]string{"kubectl"}, args...)
	return cli.RunNoErrOutput(kubectlcmd.NewDefaultKubectlCommand())
}

// defaultKubeconfig points KUBECONFIG at the tug server's admin kubeconfig
// when it exists. Otherwise kubectl keeps its own default (~/.kube/config),
// and when that is missing too a hint says where tug looked, because
// kubectl would only report a refused connection to localhost:8080.
func defaultKubeconfig() error {
	path := filepath.Join(dataDirDefault(), cluster.KubeconfigFile)
	_, err := os.Stat(path)
	if !errors.Is(err, fs.ErrNotExist) {
		// Present (or unreadable: kubectl then reports why).
		return os.Setenv("KUBECONFIG", path)
	}
	if _, err := os.Stat(clientcmd.RecommendedHomeFile); errors.Is(err, fs.ErrNotExist) {
		fmt.Fprintf(os.Stderr, "tug: no kubeconfig at %s: is tug server running with data directory %s? "+
			"Set %s, KUBECONFIG or --kubeconfig to use another.\n", path, dataDirDefault(), DataDirEnv)
	}
	return nil
}

// hasKubeconfigFlag reports whether kubectl's own arguments name a
// kubeconfig; arguments after "--" belong to a command kubectl runs.
func hasKubeconfigFlag(args []string) bool {
	for _, a := range args {
		if a == "--" {
			return false
		}
		if a == "--kubeconfig" || strings.HasPrefix(a, "--kubeconfig=") {
			return true
		}
	}
	return false
}
