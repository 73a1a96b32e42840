//go:build tools

// Package tools pins etcdctl and etcdutl of the etcd server the lane runs (helpers/tools/go/etcd), which
// kwokctl's binary runtime calls for `snapshot save` and `snapshot restore`. `go install ...@v3.6.5` is
// refused (their go.mod files have replace directives), so they are built from this module instead.
package tools

import (
	_ "go.etcd.io/etcd/etcdctl/v3"
	_ "go.etcd.io/etcd/etcdutl/v3"
)
