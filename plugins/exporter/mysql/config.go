package main

import (
	"fmt"
	"net"
	"slices"
	"strings"

	"github.com/go-sql-driver/mysql"

	"github.com/vigilmon/vigil/sdk"
)

// The config attributes.
const (
	attrAddress         = "address"
	attrUser            = "user"
	attrPassword        = "password"
	attrTLS             = "tls"
	attrCollectors      = "collectors"
	attrTimeout         = "timeout"
	attrLockWaitTimeout = "lock_wait_timeout"
)

// tlsModes are the values of the tls attribute, as the driver names them.
var tlsModes = []string{"false", "true", "skip-verify", "preferred"}

// schema declares the config attributes.
var schema = sdk.Schema{
	sdk.String(attrAddress, `The server: "host:port", or the path of its Unix socket (starting with "/").`,
		sdk.Default("127.0.0.1:3306")),
	sdk.String(attrUser, "The user to log in as; it needs the PROCESS, REPLICATION CLIENT and SELECT privileges.",
		sdk.Default("exporter")),
	sdk.String(attrPassword, "The user's password.", sdk.Sensitive),
	sdk.String(attrTLS, `TLS to the server: "false", "true" (verified), "skip-verify" or "preferred".`,
		sdk.Default("false")),
	sdk.StringList(attrCollectors, "The collectors to run, of: "+strings.Join(scraperNames(), ", ")+"; all but the last by default, as in mysqld_exporter.",
		sdk.Default(scraperNames()[:defaultScrapers])),
	sdk.Duration(attrTimeout, "How long to wait for a connection to the server.", sdk.Default("5s")),
	sdk.Number(attrLockWaitTimeout, "The session's lock_wait_timeout in seconds, so that a collection never waits long for a metadata lock.",
		sdk.Default(2)),
}

// config is the plugin's config, checked.
type config struct {
	// dsn is the driver's config, the password included.
	dsn *mysql.Config
	// scrapers are the collectors to run.
	scrapers []scraper
}

// parseConfig checks cfg and makes the driver's config of it.
func parseConfig(cfg sdk.Config) (*config, error) {
	d := mysql.NewConfig()
	address := cfg.String(attrAddress)
	switch {
	case address == "":
		return nil, sdk.AttributeErrorf(attrAddress, "must not be empty")
	case strings.HasPrefix(address, "/"):
		d.Net, d.Addr = "unix", address
	default:
		if _, _, err := net.SplitHostPort(address); err != nil {
			return nil, sdk.AttributeErrorf(attrAddress, "%q is neither host:port nor a socket path: %v", address, err)
		}
		d.Net, d.Addr = "tcp", address
	}
	d.User = cfg.String(attrUser)
	if d.User == "" {
		return nil, sdk.AttributeErrorf(attrUser, "must not be empty")
	}
	d.Passwd = cfg.String(attrPassword)
	tls := cfg.String(attrTLS)
	if !slices.Contains(tlsModes, tls) {
		return nil, sdk.AttributeErrorf(attrTLS, "%q is not one of %s", tls, strings.Join(tlsModes, ", "))
	}
	d.TLSConfig = tls
	d.Timeout = cfg.Duration(attrTimeout)
	if d.Timeout <= 0 {
		return nil, sdk.AttributeErrorf(attrTimeout, "must be positive")
	}
	d.ReadTimeout, d.WriteTimeout = d.Timeout, d.Timeout
	lock := cfg.Number(attrLockWaitTimeout)
	if lock < 1 || lock != float64(int64(lock)) {
		return nil, sdk.AttributeErrorf(attrLockWaitTimeout, "%v is not a whole number of seconds of at least 1", lock)
	}
	d.Params = map[string]string{"lock_wait_timeout": fmt.Sprint(int64(lock))}
	// The driver checks the TLS mode again when it connects; check all now.
	if _, err := mysql.ParseDSN(d.FormatDSN()); err != nil {
		return nil, fmt.Errorf("the connection settings: %w", err)
	}

	c := &config{dsn: d}
	seen := map[string]bool{}
	for _, name := range cfg.StringList(attrCollectors) {
		i := slices.IndexFunc(scrapers, func(s scraper) bool { return s.name() == name })
		if i < 0 {
			return nil, sdk.AttributeErrorf(attrCollectors, "no collector is called %q; there are %s", name, strings.Join(scraperNames(), ", "))
		}
		if seen[name] {
			return nil, sdk.AttributeErrorf(attrCollectors, "collector %q is listed twice", name)
		}
		seen[name] = true
		c.scrapers = append(c.scrapers, scrapers[i])
	}
	return c, nil
}
