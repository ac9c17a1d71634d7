package main

import (
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// version and commit are set at link time:
//
//	go build -ldflags "-X main.version=v0.1.0 -X main.commit=$(git rev-parse HEAD)" ./cmd/fabricctl
//
// When they are not, they are read from the build information Go embeds.
var (
	version string
	commit  string
)

// versionInfo is the result of "fabricctl version".
type versionInfo struct {
	Version   string `json:"version"`
	Commit    string `json:"commit,omitempty"`
	GoVersion string `json:"go_version"`
	Platform  string `json:"platform"`
}

// TableHeaders implements output.Tabular.
func (v versionInfo) TableHeaders() []string {
	return []string{"VERSION", "COMMIT", "GO", "PLATFORM"}
}

// TableRows implements output.Tabular.
func (v versionInfo) TableRows() [][]string {
	return [][]string{{v.Version, v.Commit, v.GoVersion, v.Platform}}
}

// currentVersion describes this binary.
func currentVersion() versionInfo {
	info := versionInfo{
		Version:   version,
		Commit:    commit,
		GoVersion: runtime.Version(),
		Platform:  runtime.GOOS + "/" + runtime.GOARCH,
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if info.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			info.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && info.Commit == "" {
				info.Commit = s.Value
			}
		}
	}
	if info.Version == "" {
		info.Version = "dev"
	}
	return info
}

func newVersionCmd(opts *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version of fabricctl",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return opts.print(cmd, currentVersion())
		},
	}
}
