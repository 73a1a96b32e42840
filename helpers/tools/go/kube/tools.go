//go:build tools

// Package tools pins the Kubernetes commands built from this module: kube-apiserver for the
// control-plane lane, kubectl for exam labs where no matching kubectl is on PATH. k8s.io/kubernetes
// replaces its staging modules with local paths, which `go install` refuses; this module replaces
// them with their published versions instead (the list is the replace block of its go.mod).
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
