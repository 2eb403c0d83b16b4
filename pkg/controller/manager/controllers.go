package manager

import (
	"github.com/tugcluster/tug/pkg/controller"
	"github.com/tugcluster/tug/pkg/controller/deployment"
	"github.com/tugcluster/tug/pkg/controller/garbagecollector"
	"github.com/tugcluster/tug/pkg/controller/namespace"
	"github.com/tugcluster/tug/pkg/controller/replicaset"
	"github.com/tugcluster/tug/pkg/controller/serviceaccount"
)

// Controllers lists every built-in controller, one per line.
func Controllers() []controller.Constructor {
	return []controller.Constructor{
		deployment.New,
		garbagecollector.New,
		namespace.New,
		replicaset.New,
		serviceaccount.New,
	}
}
