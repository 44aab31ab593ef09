package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vigilmon/vigil/sdk"
)

// pluginKinds are the kinds of plugins, in the order help texts list them.
var pluginKinds = []sdk.Kind{sdk.KindExporter, sdk.KindDiscoverer, sdk.KindNotifier}

// kindNames are the values --kind takes: the kinds' names as the config
// blocks that use them are named (sdk.Kind.String), "exporter",
// "discovery" and "notifier", so the command line and the config agree.
func kindNames() []string {
	names := make([]string, len(pluginKinds))
	for i, k := range pluginKinds {
		names[i] = k.String()
	}
	return names
}

// oldDiscoveryKind is how vigil plugin new used to name the discovery
// kind; it is still taken, with a note.
const oldDiscoveryKind = "discoverer"

// kindList is the kinds as a sentence says them: "a, b or c".
func kindList() string {
	names := kindNames()
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// parseKind reads the value of a --kind flag. The old spelling
// "discoverer" still means discovery, and note gets a line saying so.
func parseKind(value string, note io.Writer) (sdk.Kind, error) {
	for _, k := range pluginKinds {
		if value == k.String() {
			return k, nil
		}
	}
	if value == oldDiscoveryKind {
		fmt.Fprintf(note, "note: --kind %s is spelled %s now, as the config block is; %s will stop working in a later version\n", oldDiscoveryKind, sdk.KindDiscoverer, oldDiscoveryKind)
		return sdk.KindDiscoverer, nil
	}
	return 0, usageError{fmt.Errorf("--kind must be %s, not %q", kindList(), value)}
}

// addKindFlag registers --kind, whose shell completion offers kindNames.
func addKindFlag(cmd *cobra.Command, value *string, usage string) {
	cmd.Flags().StringVar(value, "kind", "", usage)
	_ = cmd.RegisterFlagCompletionFunc("kind", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return kindNames(), cobra.ShellCompDirectiveNoFileComp
	})
}
