//go:build tools

// Package tools pins the Kubernetes commands built from this module: kube-apiserver,
// kube-controller-manager and kube-scheduler for the control-plane lane's kwok cluster (one go build of
// the three), kubectl for kwokctl and exam labs. k8s.io/kubernetes
// replaces its staging modules with local paths, which `go install` refuses; this module replaces
// them with their published versions instead (the list is the replace block of its go.mod).
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
