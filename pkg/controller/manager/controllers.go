package manager

import (
	"github.com/tugcluster/tug/pkg/controller"
	"github.com/tugcluster/tug/pkg/controller/clusterroleaggregation"
	"github.com/tugcluster/tug/pkg/controller/cronjob"
	"github.com/tugcluster/tug/pkg/controller/daemonset"
	"github.com/tugcluster/tug/pkg/controller/deployment"
	"github.com/tugcluster/tug/pkg/controller/disruption"
	"github.com/tugcluster/tug/pkg/controller/endpoints"
	"github.com/tugcluster/tug/pkg/controller/endpointslice"
	"github.com/tugcluster/tug/pkg/controller/garbagecollector"
	"github.com/tugcluster/tug/pkg/controller/job"
	"github.com/tugcluster/tug/pkg/controller/localpath"
	"github.com/tugcluster/tug/pkg/controller/namespace"
	"github.com/tugcluster/tug/pkg/controller/nodeipam"
	"github.com/tugcluster/tug/pkg/controller/nodelifecycle"
	"github.com/tugcluster/tug/pkg/controller/podautoscaler"
	"github.com/tugcluster/tug/pkg/controller/pvcprotection"
	"github.com/tugcluster/tug/pkg/controller/pvprotection"
	"github.com/tugcluster/tug/pkg/controller/replicaset"
	"github.com/tugcluster/tug/pkg/controller/rootcacert"
	"github.com/tugcluster/tug/pkg/controller/serviceaccount"
	"github.com/tugcluster/tug/pkg/controller/statefulset"
	"github.com/tugcluster/tug/pkg/controller/tokens"
	"github.com/tugcluster/tug/pkg/controller/volumebinding"
)

// Controllers lists every built-in controller, one per line.
func Controllers() []controller.Constructor {
	return []controller.Constructor{
		clusterroleaggregation.New,
		cronjob.New,
		daemonset.New,
		deployment.New,
		disruption.New,
		endpoints.New,
		endpointslice.New,
		garbagecollector.New,
		job.New,
		localpath.New,
		namespace.New,
		nodeipam.New,
		nodelifecycle.New,
		podautoscaler.New,
		pvcprotection.New,
		pvprotection.New,
		replicaset.New,
		rootcacert.New,
		serviceaccount.New,
		statefulset.New,
		tokens.New,
		volumebinding.New,
	}
}
