//go:build tools

// Package argocdbuild only records the main package e2e/argocd/build.sh builds (Argo CD's single
// binary), so that 'go mod tidy' keeps its dependencies in go.sum.
package argocdbuild

import (
	_ "github.com/argoproj/argo-cd/v3/cmd"
)
