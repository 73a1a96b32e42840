//go:build tools

// Package tools pins kwok's two commands for the control-plane lane's cluster: kwokctl (runs etcd,
// kube-apiserver, kube-controller-manager, kube-scheduler and the kwok controller as local processes
// with `--runtime binary`) and kwok (the controller that plays the kubelet for fake Nodes). kwok v0.8.0
// needs Go >= 1.26 and k8s.io libraries v0.36.x, so it cannot share the kube module (k8s.io/kubernetes
// v1.35.x pins its staging modules at v0.35.x).
package tools

import (
	_ "sigs.k8s.io/kwok/cmd/kwok"
	_ "sigs.k8s.io/kwok/cmd/kwokctl"
)
