// Command simulator runs Istio's own traffic simulator (istio.io/istio/pilot/pkg/simulation, the one
// Istio's sidecar_simulation_test.go uses) on a sidecar's xDS snapshot, as a referee for this project's
// TypeScript evaluator. All matching is Istio's code; this program only decodes the snapshot and calls.
//
// Input (stdin, JSON, one request after another): {"snapshot": {"listeners": [...], "clusters": [...], "routes": [...]}, "calls": [Call...]}
// where the snapshot is what the control-plane lane's ADS client decoded (@grpc/proto-loader JSON:
// snake_case fields, enums as names, int64 as strings, google.protobuf.Any expanded with "@type" or kept as
// {type_url, value}), and a Call is {"address", "port", "protocol": "http"|"tcp", "tls": "plaintext"|"tls",
// "sni", "hostHeader", "path"}.
// Output (stdout, one JSON line per request): {"results": [...], "unknownTypes": [...], "error"}, one result per call: {"listener", "filterChain", "routeConfig", "virtualHost",
// "route", "cluster", "directResponse", "error"}.
package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"

	cluster "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	listener "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	route "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/known/anypb"

	"istio.io/istio/pilot/pkg/simulation"
	istiolog "istio.io/istio/pkg/log"
)

type call struct {
	Address    string `json:"address"`
	Port       int    `json:"port"`
	Protocol   string `json:"protocol"`
	TLS        string `json:"tls"`
	Sni        string `json:"sni"`
	HostHeader string `json:"hostHeader"`
	Path       string `json:"path"`
}

type input struct {
	Snapshot struct {
		Listeners []map[string]any `json:"listeners"`
		Clusters  []map[string]any `json:"clusters"`
		Routes    []map[string]any `json:"routes"`
	} `json:"snapshot"`
	Calls []call `json:"calls"`
}

type result struct {
	Listener       string `json:"listener,omitempty"`
	FilterChain    string `json:"filterChain,omitempty"`
	RouteConfig    string `json:"routeConfig,omitempty"`
	VirtualHost    string `json:"virtualHost,omitempty"`
	Route          string `json:"route,omitempty"`
	Cluster        string `json:"cluster,omitempty"`
	DirectResponse uint32 `json:"directResponse,omitempty"`
	Error          string `json:"error,omitempty"`
}

type output struct {
	Results []result `json:"results"`
	// The snapshot could not be decoded; no results.
	Error string `json:"error,omitempty"`
	// Any types the decoder could not resolve (left unset); they never carry routing decisions the
	// simulator reads (HCM and TcpProxy are always registered), but they are reported, not hidden.
	UnknownTypes []string `json:"unknownTypes,omitempty"`
}

func main() {
	// The simulation package logs at info on ambiguous matches; results carry the error instead.
	for _, s := range istiolog.Scopes() {
		s.SetOutputLevel(istiolog.NoneLevel)
	}
	// One JSON request after another on stdin, one JSON line out per request, so a caller can keep one
	// process for a whole run (starting this binary costs more than a simulation).
	dec := json.NewDecoder(os.Stdin)
	dec.UseNumber()
	enc := json.NewEncoder(os.Stdout)
	for {
		var in input
		if err := dec.Decode(&in); err == io.EOF {
			return
		} else if err != nil {
			fail("reading the input JSON: %v", err)
		}
		if err := enc.Encode(answer(in)); err != nil {
			fail("writing the output: %v", err)
		}
	}
}

func answer(in input) output {
	d := &decoder{unknown: map[string]bool{}}
	sim := &simulation.Simulation{}
	for i, l := range in.Snapshot.Listeners {
		m := &listener.Listener{}
		if err := d.message(m.ProtoReflect(), l); err != nil {
			return output{Error: fmt.Sprintf("listener %d: %v", i, err)}
		}
		sim.Listeners = append(sim.Listeners, m)
	}
	for i, c := range in.Snapshot.Clusters {
		m := &cluster.Cluster{}
		if err := d.message(m.ProtoReflect(), c); err != nil {
			return output{Error: fmt.Sprintf("cluster %d: %v", i, err)}
		}
		sim.Clusters = append(sim.Clusters, m)
	}
	for i, r := range in.Snapshot.Routes {
		m := &route.RouteConfiguration{}
		if err := d.message(m.ProtoReflect(), r); err != nil {
			return output{Error: fmt.Sprintf("route %d: %v", i, err)}
		}
		sim.Routes = append(sim.Routes, m)
	}
	out := output{Results: make([]result, 0, len(in.Calls))}
	for _, c := range in.Calls {
		out.Results = append(out.Results, run(sim, c))
	}
	for t := range d.unknown {
		out.UnknownTypes = append(out.UnknownTypes, t)
	}
	sort.Strings(out.UnknownTypes)
	return out
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "simulator: "+format+"\n", args...)
	os.Exit(2)
}

// run calls Simulation.Run. Its testing.T is nil outside a test; the package only touches it on a
// malformed config (Fatal), which surfaces here as a recovered panic and is reported as an error.
func run(sim *simulation.Simulation, c call) (res result) {
	defer func() {
		if r := recover(); r != nil {
			res = result{Error: fmt.Sprintf("simulator panicked (malformed config?): %v", r)}
		}
	}()
	in := simulation.Call{
		Address:    c.Address,
		Port:       c.Port,
		Path:       c.Path,
		Protocol:   simulation.Protocol(c.Protocol),
		TLS:        simulation.TLSMode(c.TLS),
		Sni:        c.Sni,
		HostHeader: c.HostHeader,
		CallMode:   simulation.CallModeOutbound,
	}
	r := sim.Run(in)
	res = result{
		Listener:    r.ListenerMatched,
		FilterChain: r.FilterChainMatched,
		RouteConfig: r.RouteConfigMatched,
		VirtualHost: r.VirtualHostMatched,
		Route:       r.RouteMatched,
		Cluster:     r.ClusterMatched,
	}
	if r.Error != nil {
		res.Error = r.Error.Error()
	}
	// Simulation.Run names the route but not a direct response (the 502 of block_all); look it up.
	if res.Route != "" && res.Cluster == "" {
		res.DirectResponse = directResponse(sim, res)
	}
	return res
}

func directResponse(sim *simulation.Simulation, r result) uint32 {
	for _, rc := range sim.Routes {
		if rc.GetName() != r.RouteConfig {
			continue
		}
		for _, vh := range rc.GetVirtualHosts() {
			if vh.GetName() != r.VirtualHost {
				continue
			}
			for _, rt := range vh.GetRoutes() {
				if rt.GetName() == r.Route && rt.GetDirectResponse() != nil {
					return rt.GetDirectResponse().GetStatus()
				}
			}
		}
	}
	return 0
}

// decoder turns @grpc/proto-loader JSON (keepCase, longs and enums as strings, oneofs: true, json: true)
// into protos by reflection. It differs from protojson in three ways, all handled here: well-known
// wrapper and duration types are plain messages ({value}, {seconds, nanos}), each oneof also appears as
// a key naming its set member, and an Any is either expanded with "@type" or {type_url, value bytes}.
type decoder struct {
	unknown map[string]bool
}

func (d *decoder) message(m protoreflect.Message, v map[string]any) error {
	md := m.Descriptor()
	if md.FullName() == "google.protobuf.Any" {
		return d.anyInto(m, v)
	}
	for k, raw := range v {
		if k == "@type" || raw == nil {
			continue
		}
		fd := md.Fields().ByName(protoreflect.Name(k))
		if fd == nil {
			fd = md.Fields().ByJSONName(k)
		}
		if fd == nil {
			if md.Oneofs().ByName(protoreflect.Name(k)) != nil {
				continue // proto-loader's oneof discriminator: the member is decoded on its own key
			}
			return fmt.Errorf("%s has no field %q", md.FullName(), k)
		}
		switch {
		case fd.IsList():
			items, ok := raw.([]any)
			if !ok {
				return fmt.Errorf("%s.%s: expected a list", md.FullName(), k)
			}
			list := m.Mutable(fd).List()
			for _, it := range items {
				val, err := d.value(m, fd, it, list.NewElement)
				if err != nil {
					return fmt.Errorf("%s.%s: %w", md.FullName(), k, err)
				}
				list.Append(val)
			}
		case fd.IsMap():
			obj, ok := raw.(map[string]any)
			if !ok {
				return fmt.Errorf("%s.%s: expected a map", md.FullName(), k)
			}
			mp := m.Mutable(fd).Map()
			for mk, mv := range obj {
				key, err := scalar(fd.MapKey(), mk)
				if err != nil {
					return fmt.Errorf("%s.%s key: %w", md.FullName(), k, err)
				}
				val, err := d.value(m, fd.MapValue(), mv, mp.NewValue)
				if err != nil {
					return fmt.Errorf("%s.%s[%s]: %w", md.FullName(), k, mk, err)
				}
				mp.Set(key.MapKey(), val)
			}
		default:
			val, err := d.value(m, fd, raw, func() protoreflect.Value { return m.NewField(fd) })
			if err != nil {
				return fmt.Errorf("%s.%s: %w", md.FullName(), k, err)
			}
			if val.IsValid() {
				m.Set(fd, val)
			}
		}
	}
	return nil
}

func (d *decoder) value(_ protoreflect.Message, fd protoreflect.FieldDescriptor, raw any, newMsg func() protoreflect.Value) (protoreflect.Value, error) {
	if fd.Kind() == protoreflect.MessageKind || fd.Kind() == protoreflect.GroupKind {
		obj, ok := raw.(map[string]any)
		if !ok {
			return protoreflect.Value{}, fmt.Errorf("expected an object for %s", fd.Message().FullName())
		}
		nv := newMsg()
		if err := d.message(nv.Message(), obj); err != nil {
			return protoreflect.Value{}, err
		}
		return nv, nil
	}
	return scalar(fd, raw)
}

func (d *decoder) anyInto(m protoreflect.Message, v map[string]any) error {
	a := &anypb.Any{}
	if t, ok := v["@type"].(string); ok {
		mt, err := protoregistry.GlobalTypes.FindMessageByURL(t)
		if err != nil {
			d.unknown[t] = true
			return nil
		}
		inner := mt.New()
		if err := d.message(inner, v); err != nil {
			return err
		}
		b, err := proto.MarshalOptions{Deterministic: true}.Marshal(inner.Interface())
		if err != nil {
			return err
		}
		a.TypeUrl, a.Value = t, b
	} else {
		a.TypeUrl, _ = v["type_url"].(string)
		b, err := bytesOf(v["value"])
		if err != nil {
			return fmt.Errorf("Any %s: %w", a.TypeUrl, err)
		}
		a.Value = b
	}
	proto.Merge(m.Interface(), a)
	return nil
}

func scalar(fd protoreflect.FieldDescriptor, raw any) (protoreflect.Value, error) {
	switch fd.Kind() {
	case protoreflect.BoolKind:
		b, ok := raw.(bool)
		if !ok {
			return protoreflect.Value{}, fmt.Errorf("expected a bool, got %v", raw)
		}
		return protoreflect.ValueOfBool(b), nil
	case protoreflect.StringKind:
		s, ok := raw.(string)
		if !ok {
			return protoreflect.Value{}, fmt.Errorf("expected a string, got %v", raw)
		}
		return protoreflect.ValueOfString(s), nil
	case protoreflect.BytesKind:
		b, err := bytesOf(raw)
		return protoreflect.ValueOfBytes(b), err
	case protoreflect.EnumKind:
		if s, ok := raw.(string); ok {
			ev := fd.Enum().Values().ByName(protoreflect.Name(s))
			if ev == nil {
				return protoreflect.Value{}, fmt.Errorf("%q is not a value of %s", s, fd.Enum().FullName())
			}
			return protoreflect.ValueOfEnum(ev.Number()), nil
		}
		n, err := number(raw, 32)
		return protoreflect.ValueOfEnum(protoreflect.EnumNumber(n)), err
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		n, err := number(raw, 32)
		return protoreflect.ValueOfInt32(int32(n)), err
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		n, err := number(raw, 64)
		return protoreflect.ValueOfInt64(n), err
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		n, err := number(raw, 64)
		return protoreflect.ValueOfUint32(uint32(n)), err
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		n, err := number(raw, 64)
		return protoreflect.ValueOfUint64(uint64(n)), err
	case protoreflect.FloatKind, protoreflect.DoubleKind:
		f, err := float(raw)
		if fd.Kind() == protoreflect.FloatKind {
			return protoreflect.ValueOfFloat32(float32(f)), err
		}
		return protoreflect.ValueOfFloat64(f), err
	}
	return protoreflect.Value{}, fmt.Errorf("unsupported field kind %v", fd.Kind())
}

func number(raw any, bits int) (int64, error) {
	switch x := raw.(type) {
	case json.Number:
		if n, err := x.Int64(); err == nil {
			return n, nil
		}
		f, err := x.Float64()
		return int64(f), err
	case string:
		if n, err := strconv.ParseInt(x, 10, bits); err == nil {
			return n, nil
		}
		u, err := strconv.ParseUint(x, 10, 64)
		return int64(u), err
	}
	return 0, fmt.Errorf("expected a number, got %v", raw)
}

func float(raw any) (float64, error) {
	switch x := raw.(type) {
	case json.Number:
		return x.Float64()
	case string:
		return strconv.ParseFloat(x, 64)
	}
	return 0, fmt.Errorf("expected a number, got %v", raw)
}

// bytesOf reads bytes as proto-loader JSON leaves them: base64, a Node Buffer's {type, data}, an array,
// or a Uint8Array serialised as {"0": b0, "1": b1, ...}.
func bytesOf(raw any) ([]byte, error) {
	switch x := raw.(type) {
	case nil:
		return nil, nil
	case string:
		return base64.StdEncoding.DecodeString(x)
	case []any:
		return byteList(x)
	case map[string]any:
		if data, ok := x["data"].([]any); ok {
			return byteList(data)
		}
		out := make([]byte, len(x))
		for k, v := range x {
			i, err := strconv.Atoi(k)
			if err != nil || i < 0 || i >= len(x) {
				return nil, fmt.Errorf("bytes object with key %q", k)
			}
			n, err := number(v, 32)
			if err != nil {
				return nil, err
			}
			out[i] = byte(n)
		}
		return out, nil
	}
	return nil, fmt.Errorf("unsupported bytes form %T", raw)
}

func byteList(items []any) ([]byte, error) {
	out := make([]byte, len(items))
	for i, v := range items {
		n, err := number(v, 32)
		if err != nil {
			return nil, err
		}
		out[i] = byte(n)
	}
	return out, nil
}
