package main

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/hashicorp/go-hclog"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/vigilmon/vigil/core/auth"
	"github.com/vigilmon/vigil/hclconfig"
	"github.com/vigilmon/vigil/registry"
)

func newPluginCommand() *cobra.Command {
	return newGroupCommand("plugin", "Install, lock, verify and publish plugins from a registry",
		newPluginInstallCommand(), newPluginListCommand(), newPluginVerifyCommand(), newPluginRemoveCommand(),
		newPluginLockCommand(), newPluginPublishCommand(), newPluginKeygenCommand(), newPluginNewCommand())
}

// pluginFlags are the flags of the commands that work on the lock file
// and the plugin directory.
type pluginFlags struct {
	config      string
	pluginDir   string
	lockFile    string
	registryURL string
	trustedKeys []string
}

// add registers the flags; withRegistry adds --registry and --trusted-key.
func (f *pluginFlags) add(cmd *cobra.Command, withRegistry bool) {
	cmd.Flags().StringVar(&f.config, "config", "", "the configuration whose registry blocks to use; the lock file and plugin directory default to its folder (default: vigil.hcl when there is one)")
	cmd.Flags().StringVar(&f.pluginDir, "plugin-dir", "", "where plugins are unpacked (default: "+registry.DefaultPluginDir+" beside the configuration)")
	cmd.Flags().StringVar(&f.lockFile, "lock-file", "", "the lock file (default: "+registry.LockFileName+" beside the configuration)")
	if withRegistry {
		cmd.Flags().StringVar(&f.registryURL, "registry", "", "the registry's URL, instead of the registry block of the plugin's host")
		cmd.Flags().StringArrayVar(&f.trustedKeys, "trusted-key", nil, "a public key (ed25519:BASE64) or .pub file trusted to sign the plugin, besides the registry block's trusted_keys (repeatable)")
	}
}

// configFile is --config, or vigil.hcl when it is here; "" for none.
func (f *pluginFlags) configFile() string {
	if f.config != "" {
		return f.config
	}
	if _, err := os.Stat("vigil.hcl"); err == nil {
		return "vigil.hcl"
	}
	return ""
}

// setup reads the configuration's registry blocks and makes the installer.
func (f *pluginFlags) setup(cmd *cobra.Command) (*registry.Installer, error) {
	config := f.configFile()
	base := "."
	in := &registry.Installer{Progress: cmd.ErrOrStderr()}
	if file, ok := cmd.ErrOrStderr().(*os.File); ok {
		in.Terminal = term.IsTerminal(int(file.Fd()))
	}
	if config != "" {
		base = filepath.Dir(config)
		regs, diags := hclconfig.Registries(config)
		if diags.HasErrors() {
			return nil, fmt.Errorf("configuration %q: %s", config, diags.Error())
		}
		in.Registries = regs
	}
	in.PluginDir, in.LockFile = f.pluginDir, f.lockFile
	if in.PluginDir == "" {
		in.PluginDir = filepath.Join(base, filepath.FromSlash(registry.DefaultPluginDir))
	}
	if in.LockFile == "" {
		in.LockFile = filepath.Join(base, registry.LockFileName)
	}
	return in, nil
}

// source parses NAME[@CONSTRAINT], where NAME is HOST/NAMESPACE/NAME or,
// with --registry or a single registry block, NAMESPACE/NAME. It adds the
// --registry URL and --trusted-key keys to the installer's registry of
// the host.
func (f *pluginFlags) source(in *registry.Installer, arg string) (registry.Source, string, error) {
	name, constraint, _ := strings.Cut(arg, "@")
	var flagURL *url.URL
	if f.registryURL != "" {
		u, err := registry.ParseRegistryURL(f.registryURL)
		if err != nil {
			return registry.Source{}, "", usageError{fmt.Errorf("--registry: %w", err)}
		}
		flagURL = u
	}
	if strings.Count(name, "/") == 1 {
		switch {
		case flagURL != nil:
			name = flagURL.Host + "/" + name
		case len(in.Registries) == 1:
			name = in.Registries[0].Host + "/" + name
		default:
			return registry.Source{}, "", usageError{fmt.Errorf("plugin %q has no registry host: write HOST/%s, pass --registry URL, or configure a single registry block", name, name)}
		}
	}
	src, err := registry.ParseSource(name)
	if err != nil {
		return registry.Source{}, "", usageError{err}
	}
	var keys []registry.PublicKey
	for _, k := range f.trustedKeys {
		key, err := registry.ParsePublicKey(k)
		if err != nil && !strings.HasPrefix(k, registry.PublicKeyPrefix) {
			key, err = registry.ReadPublicKeyFile(k)
		}
		if err != nil {
			return registry.Source{}, "", usageError{fmt.Errorf("--trusted-key: %w", err)}
		}
		keys = append(keys, key)
	}
	i := 0
	for i < len(in.Registries) && in.Registries[i].Host != src.Host {
		i++
	}
	if i == len(in.Registries) {
		in.Registries = append(in.Registries, registry.Registry{Host: src.Host, URL: registry.DefaultURL(src.Host)})
	}
	if flagURL != nil {
		in.Registries[i].URL = flagURL
	}
	for _, key := range keys { // once, however many plugins name the host
		if !slices.ContainsFunc(in.Registries[i].TrustedKeys, func(k registry.PublicKey) bool { return k.ID() == key.ID() }) {
			in.Registries[i].TrustedKeys = append(in.Registries[i].TrustedKeys, key)
		}
	}
	return src, constraint, nil
}

func newPluginInstallCommand() *cobra.Command {
	var (
		f        pluginFlags
		upgrade  bool
		platform string
	)
	cmd := &cobra.Command{
		Use:   "install [--registry URL] [--trusted-key KEY] [NAME[@CONSTRAINT]]",
		Short: "Install a plugin from a registry and pin it in the lock file",
		Long: `Install a plugin from a registry. NAME is HOST/NAMESPACE/NAME, or
NAMESPACE/NAME with --registry (or a single registry block). CONSTRAINT
limits the versions, as "~> 1.2" or ">= 1.0, < 2.0"; without one the
newest release is taken. Without NAME, every plugin block of the
configuration whose source is a registry address is installed, with its
version attribute as the constraint. A version the lock file pins is kept
while it matches the constraint, unless --upgrade.

The archive's SHA-256 is checked against the registry's SHA256SUMS, whose
ed25519 signature must be by a trusted key (a registry block's
trusted_keys, or --trusted-key). The plugin is unpacked into the plugin
directory and the lock file records the version, the constraint and the
hashes of every platform the version is published for. On any error the
plugin directory and the lock file are left as they were.`,
		Example: `  vigil plugin install --registry http://127.0.0.1:8080 --trusted-key keys/acme.pub 'acme/webhook@~> 1.2'
  vigil plugin install 'plugins.example.com/acme/webhook@>= 1.0, < 2.0'
  vigil plugin install --config vigil.hcl`,
		Args: maxArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			in, err := f.setup(cmd)
			if err != nil {
				return err
			}
			names := args
			if len(names) == 0 {
				if names, err = f.configPlugins(); err != nil {
					return err
				}
			}
			audit, err := f.openAudit(cmd)
			if err != nil {
				return err
			}
			defer audit.Close()
			for _, name := range names {
				if err := f.install(cmd, in, audit, name, upgrade, platform); err != nil {
					return err
				}
			}
			return nil
		},
	}
	f.add(cmd, true)
	cmd.Flags().BoolVar(&upgrade, "upgrade", false, "take the newest version matching the constraint even if the lock file pins another")
	cmd.Flags().StringVar(&platform, "platform", "", "the platform to install, OS_ARCH or wasm (default: this one, or wasm)")
	return cmd
}

// configPlugins returns the registry plugins of the configuration as
// NAME@CONSTRAINT arguments.
func (f *pluginFlags) configPlugins() ([]string, error) {
	config := f.configFile()
	if config == "" {
		return nil, usageError{errors.New("name a plugin, or give a configuration with --config whose plugin blocks have registry addresses")}
	}
	plugins, diags := hclconfig.RegistryPlugins(config)
	if diags.HasErrors() {
		return nil, fmt.Errorf("configuration %q: %s", config, diags.Error())
	}
	if len(plugins) == 0 {
		return nil, fmt.Errorf("configuration %q has no plugin block with a registry address (HOST/NAMESPACE/NAME)", config)
	}
	var names []string
	for _, p := range plugins {
		name := p.Address
		if p.Constraint != "" {
			name += "@" + p.Constraint
		}
		names = append(names, name)
	}
	return names, nil
}

// install installs one plugin, NAME[@CONSTRAINT], says where, and writes
// it to audit.
func (f *pluginFlags) install(cmd *cobra.Command, in *registry.Installer, audit *auth.Audit, name string, upgrade bool, platform string) error {
	src, constraint, err := f.source(in, name)
	if err != nil {
		return err
	}
	opts := registry.InstallOptions{Constraint: constraint, Upgrade: upgrade}
	if platform != "" {
		if opts.Platform, err = registry.ParsePlatform(platform); err != nil {
			return usageError{fmt.Errorf("--platform: %w", err)}
		}
	}
	lp, err := in.Install(cmd.Context(), src, opts)
	if err != nil {
		return err
	}
	var file string
	if opts.Platform == (registry.Platform{}) {
		file, err = lp.Check(in.PluginDir)
	} else {
		file, err = registry.PluginPath(in.PluginDir, src.String(), lp.Version, opts.Platform)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(cmd.OutOrStdout(), "installed %s %s into %s; locked in %s\n", src, lp.Version, file, in.LockFile)
	who := "unknown"
	if u, err := user.Current(); err == nil {
		who = "os user " + u.Username
	}
	audit.PluginInstalled(who, src.String(), lp.Version, file)
	return nil
}

// openAudit opens the audit log of the configuration's server block, when
// it has one: its file, or else the command's standard error, as the
// server writes it to its log. It is nil, which writes nothing, without a
// configuration or with the audit log off.
func (f *pluginFlags) openAudit(cmd *cobra.Command) (*auth.Audit, error) {
	config := f.configFile()
	if config == "" {
		return nil, nil
	}
	srv, diags := hclconfig.ServerBlock(config)
	if diags.HasErrors() {
		return nil, fmt.Errorf("configuration %q: %s", config, diags.Error())
	}
	return auth.OpenAudit(srv.Audit, srv.DataDir, hclog.New(&hclog.LoggerOptions{Output: cmd.ErrOrStderr()}))
}

func newPluginListCommand() *cobra.Command {
	var f pluginFlags
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the plugins of the lock file and whether they are installed",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			in, err := f.setup(cmd)
			if err != nil {
				return err
			}
			lf, err := registry.ReadLockFile(in.LockFile)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "SOURCE\tVERSION\tCONSTRAINTS\tPLATFORMS\tINSTALLED")
			for _, s := range lf.Sources() {
				lp, _ := lf.Plugin(s)
				status := "yes"
				if _, err := lp.Check(in.PluginDir); errors.Is(err, registry.ErrChecksum) {
					status = "MODIFIED"
				} else if err != nil {
					status = "no"
				}
				var platforms []string
				for p := range lp.Platforms {
					platforms = append(platforms, p.String())
				}
				slices.Sort(platforms)
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", s, lp.Version, orDash(lp.Constraints), strings.Join(platforms, ","), status)
			}
			return tw.Flush()
		},
	}
	f.add(cmd, false)
	return cmd
}

func newPluginVerifyCommand() *cobra.Command {
	var f pluginFlags
	cmd := &cobra.Command{
		Use:   "verify [SOURCE...]",
		Short: "Check that installed plugins have the SHA-256 the lock file pins",
		Long: `Check each plugin of the lock file (or the SOURCEs given) for this
platform: its file must be in the plugin directory with the SHA-256 the
lock file pins. Exit 1 when one is missing or differs.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			in, err := f.setup(cmd)
			if err != nil {
				return err
			}
			lf, err := registry.ReadLockFile(in.LockFile)
			if err != nil {
				return err
			}
			if len(args) == 0 {
				args = lf.Sources()
			}
			failed := 0
			for _, s := range args {
				lp, ok := lf.Plugin(s)
				if !ok {
					fmt.Fprintf(cmd.ErrOrStderr(), "%s: not in the lock file %s\n", s, in.LockFile)
					failed++
					continue
				}
				file, err := lp.Check(in.PluginDir)
				if err != nil {
					fmt.Fprintf(cmd.ErrOrStderr(), "%s: %v\n", s, err)
					failed++
					continue
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s %s: ok (%s)\n", lp.Source, lp.Version, file)
			}
			if failed > 0 {
				return fmt.Errorf("%d of %d plugins failed verification", failed, len(args))
			}
			return nil
		},
	}
	f.add(cmd, false)
	return cmd
}

func newPluginRemoveCommand() *cobra.Command {
	var f pluginFlags
	cmd := &cobra.Command{
		Use:   "remove SOURCE",
		Short: "Remove a plugin from the plugin directory and the lock file",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			in, err := f.setup(cmd)
			if err != nil {
				return err
			}
			src, err := registry.ParseSource(args[0])
			if err != nil {
				return usageError{err}
			}
			if err := in.Remove(src); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "removed %s\n", src)
			return nil
		},
	}
	f.add(cmd, false)
	return cmd
}

func newPluginLockCommand() *cobra.Command {
	var (
		f         pluginFlags
		platforms []string
	)
	cmd := &cobra.Command{
		Use:   "lock [--platform OS_ARCH|wasm]... [NAME[@CONSTRAINT]...]",
		Short: "Record in the lock file the hashes of plugins for several platforms",
		Long: `Fetch the signed SHA256SUMS of each plugin of the lock file (or of the
NAMEs given, resolving their constraint when the lock file does not pin
them) and record the hashes of the given platforms, or of every platform
the version is published for, without installing anything. Hashes
already in the lock file must agree with the registry's.`,
		Example: `  vigil plugin lock --platform linux_amd64 --platform darwin_arm64`,
		RunE: func(cmd *cobra.Command, args []string) error {
			in, err := f.setup(cmd)
			if err != nil {
				return err
			}
			var pls []registry.Platform
			for _, s := range platforms {
				p, err := registry.ParsePlatform(s)
				if err != nil {
					return usageError{fmt.Errorf("--platform: %w", err)}
				}
				pls = append(pls, p)
			}
			var sources []registry.Source
			constraints := map[string]string{}
			for _, a := range args {
				src, c, err := f.source(in, a)
				if err != nil {
					return err
				}
				sources = append(sources, src)
				if strings.Contains(a, "@") {
					constraints[src.String()] = c
				}
			}
			if len(args) == 0 && (f.registryURL != "" || len(f.trustedKeys) > 0) {
				lf, err := registry.ReadLockFile(in.LockFile)
				if err != nil {
					return err
				}
				for _, s := range lf.Sources() {
					if _, _, err := f.source(in, s); err != nil {
						return err
					}
				}
			}
			lf, err := in.Lock(cmd.Context(), sources, constraints, pls)
			if err != nil {
				return err
			}
			for _, s := range lf.Sources() {
				lp, _ := lf.Plugin(s)
				fmt.Fprintf(cmd.OutOrStdout(), "locked %s %s for %d platforms\n", s, lp.Version, len(lp.Platforms))
			}
			return nil
		},
	}
	f.add(cmd, true)
	cmd.Flags().StringArrayVar(&platforms, "platform", nil, "a platform to record, OS_ARCH or wasm (repeatable; default: every published one)")
	return cmd
}

func newPluginPublishCommand() *cobra.Command {
	var (
		opts           registry.PublishOptions
		key, osF, arch string
		protocols      []string
	)
	cmd := &cobra.Command{
		Use:   "publish --dir DIR --key KEYFILE --namespace NS --name NAME --version V [--os OS --arch ARCH] FILE",
		Short: "Pack a built plugin into a registry folder, with checksums and a signature",
		Long: `Pack FILE, a plugin program or .wasm module, into the registry folder DIR:
its archive, the version's SHA256SUMS signed with the private key KEYFILE
(see vigil plugin keygen), and the index documents that vigil registry
serve (or any static web server) serves. The platform is read from FILE's
header unless --os and --arch are given. Publish each platform's build of
a version in turn.`,
		Example: `  vigil plugin keygen keys/acme
  vigil plugin publish --dir registry --key keys/acme --namespace acme --name webhook --version 1.2.0 bin/vigil-notifier-webhook`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			for flag, v := range map[string]string{"--dir": opts.Dir, "--key": key, "--namespace": opts.Namespace, "--name": opts.Name, "--version": opts.Version} {
				if v == "" {
					return usageError{fmt.Errorf("publish needs %s", flag)}
				}
			}
			opts.File, opts.Protocols = args[0], protocols
			var err error
			switch {
			case osF != "" && arch != "":
				opts.Platform = registry.Platform{OS: osF, Arch: arch}
				if osF == "wasm" {
					opts.Platform = registry.Wasm
				}
			case osF != "" || arch != "":
				return usageError{errors.New("give both --os and --arch, or neither")}
			default:
				if opts.Platform, err = registry.DetectPlatform(args[0]); err != nil {
					return err
				}
			}
			if opts.Key, err = registry.ReadPrivateKeyFile(key); err != nil {
				return err
			}
			pub, err := registry.Publish(opts)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "published %s/%s %s for %s: %s (sha256 %s), signed by key %s\n",
				opts.Namespace, opts.Name, opts.Version, opts.Platform, pub.Archive, pub.ArchiveSHA256, pub.KeyID)
			return nil
		},
	}
	cmd.Flags().StringVar(&opts.Dir, "dir", "", "the registry folder (created when missing)")
	cmd.Flags().StringVar(&key, "key", "", "the private key file that signs SHA256SUMS")
	cmd.Flags().StringVar(&opts.Namespace, "namespace", "", "the plugin's namespace, such as your organisation")
	cmd.Flags().StringVar(&opts.Name, "name", "", "the plugin's name")
	cmd.Flags().StringVar(&opts.Version, "version", "", "the version, a semantic version such as 1.2.0")
	cmd.Flags().StringVar(&osF, "os", "", "the operating system FILE runs on, as GOOS, or wasm (default: read from FILE)")
	cmd.Flags().StringVar(&arch, "arch", "", "the architecture FILE runs on, as GOARCH, or wasm (default: read from FILE)")
	cmd.Flags().StringSliceVar(&protocols, "protocol", nil, "the protocol versions the plugin speaks (default: "+strings.Join(registry.DefaultProtocols, ",")+")")
	return cmd
}

func newPluginKeygenCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "keygen KEYFILE",
		Short: "Make an ed25519 key pair to sign published plugins",
		Long: `Write a new private key to KEYFILE (PKCS#8 PEM, mode 0600) and its public
key to KEYFILE.pub, as "ed25519:BASE64": the text that goes into a
registry block's trusted_keys, or to --trusted-key. A missing folder of
KEYFILE is made, readable by its owner only. Existing files are not
overwritten.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			pub, err := registry.GenerateKey(args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s and %s.pub\npublic key: %s\nkey ID: %s\n", args[0], args[0], pub, pub.ID())
			return nil
		},
	}
}

// orDash is s, or "-" when empty.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
