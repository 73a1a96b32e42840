// Command etcd is the etcd server of the pinned module version, for the control-plane lane's local
// Kubernetes API server. etcd publishes no installable main package on the module proxy, so this
// wrapper provides one; all behaviour is etcd's own.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
