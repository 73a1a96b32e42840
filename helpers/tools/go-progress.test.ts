import { describe, expect, it } from 'vitest';
import { buildTargets, GoBuildProgress, withVerbose } from './go-progress.ts';

describe('GoBuildProgress', () => {
  it('counts downloads, then names the package compiling, then the link of a target, never a stale download line', () => {
    const p = new GoBuildProgress(['k8s.io/kubernetes/cmd/kube-apiserver'], 0);
    expect(p.describe(0)).toBe('resolving modules');
    p.feed('go: downloading k8s.io/api v0.35.4\ngo: downloading github.com/emicklei/go-restful/v3 v3.13.0\n', 1000);
    expect(p.describe(20_000)).toBe('downloading modules (2 so far, last github.com/emicklei/go-restful/v3 v3.13.0)');
    p.feed('internal/abi\nk8s.io/apimachinery/pkg/util/sets\n', 30_000);
    expect(p.describe(31_000)).toBe('compiling package k8s.io/apimachinery/pkg/util/sets (2 packages so far; 2 modules downloaded)');
    expect(p.describe(40_000)).toBe('compiling k8s.io/apimachinery/pkg/util/sets or linking (2 packages started, quiet for 10s)');
    p.feed('k8s.io/kubernetes/cmd/kube-apiserver\n', 50_000);
    expect(p.describe(50_500)).toMatch(/^compiling package k8s\.io\/kubernetes\/cmd\/kube-apiserver/);
    expect(p.describe(60_000)).toBe('linking k8s.io/kubernetes/cmd/kube-apiserver (3 packages compiled)');
  });

  it('matches a go install target written with @version', () => {
    const p = new GoBuildProgress(['sigs.k8s.io/kind@v0.31.0'], 0);
    p.feed('sigs.k8s.io/kind\n', 0);
    expect(p.describe(3000)).toBe('linking sigs.k8s.io/kind (1 packages compiled)');
  });

  it('passes other output through (an error heading, a tool message)', () => {
    const p = new GoBuildProgress(['.'], 0);
    p.feed('go: finding module for package x/y\n', 0);
    expect(p.describe(100)).toBe('go: finding module for package x/y');
  });
});

describe('go command lines', () => {
  it('adds -v to build and install only, and finds the package arguments after the flags', () => {
    expect(withVerbose(['build', '-o', 'x', '.'])).toEqual(['build', '-v', '-o', 'x', '.']);
    expect(withVerbose(['version'])).toEqual(['version']);
    expect(withVerbose(['build', '-v', '.'])).toEqual(['build', '-v', '.']);
    expect(buildTargets(['build', '-v', '-trimpath', '-ldflags', '-s -w', '-o', '/tmp/o', 'a/b', 'c/d'])).toEqual(['a/b', 'c/d']);
  });
});
