package hclconfig

import (
	"errors"
	"fmt"
)

// CheckAgent refuses a configuration with blocks that `vigil agent`
// cannot honour, naming each: an agent keeps no store, so it evaluates no
// rules and sends no alerts, and takes no pushes or remote writes.
// Prometheus's agent refuses rule_files the same way.
func (c *Config) CheckAgent() error {
	var errs []error
	refuse := func(what string) {
		errs = append(errs, fmt.Errorf("%s: not available in agent mode, which only scrapes and remote-writes", what))
	}
	for _, g := range c.RuleGroups {
		refuse(fmt.Sprintf("rules block %q", g.Name))
	}
	if len(c.RuleFiles) > 0 {
		refuse("rule_files")
	}
	if c.Route != nil {
		refuse("route block")
	}
	if len(c.Inhibits) > 0 {
		refuse("inhibit block")
	}
	for _, n := range c.Notifiers {
		refuse(fmt.Sprintf("notifier block %q", n.Name))
	}
	if len(c.Alertmanagers) > 0 {
		refuse("alertmanager block")
	}
	if c.Server.EnablePush {
		refuse("server block's enable_push")
	}
	if c.Server.EncryptionKeyFile != "" {
		// The agent keeps only the write-ahead log, which is not encrypted.
		refuse("server block's encryption_key_file")
	}
	if c.Server.EnableRemoteWriteReceiver {
		refuse("server block's enable_remote_write_receiver")
	}
	if c.Server.EnableOTLPReceiver {
		refuse("server block's enable_otlp_receiver")
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("the configuration %q cannot run as an agent: %w", c.File, err)
	}
	return nil
}
