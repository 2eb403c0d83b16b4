// Package cli builds tug's command tree with cobra, one file per
// subcommand. Commands parse and check flags, set up logging and signals,
// and hand over to the packages that do the work (pkg/cluster, kubectl);
// they hold no cluster logic themselves.
package cli
