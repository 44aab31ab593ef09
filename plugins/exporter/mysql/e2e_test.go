package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	dto "github.com/prometheus/client_model/go"

	"github.com/vigilmon/vigil/conformance"
	"github.com/vigilmon/vigil/core/pluginhost/client"
	"github.com/vigilmon/vigil/internal/anchortest"
	"github.com/vigilmon/vigil/sdk"
)

// requireEnv names the environment variable that, when set, makes a
// missing MariaDB server or mysqld_exporter fail the test instead of
// skipping it.
const requireEnv = "VIGIL_REQUIRE_MARIADB"

// The user the tests log in as, as mysqld_exporter's README has it made.
const (
	testUser     = "exporter"
	testPassword = "s3cret-exporter"
)

// mariaDB is a server a test started.
type mariaDB struct {
	addr   string // 127.0.0.1:port
	socket string
	root   *sql.DB // logged in as root, through the socket
}

// startMariaDB runs Debian's mariadbd on a fresh data folder, on a free
// loopback port and a socket, with a binary log and the server ID given,
// until the test ends, and creates the exporter user with the privileges
// mysqld_exporter asks for (without logging it, so that a replica does
// not replay it).
func startMariaDB(t *testing.T, serverID int) mariaDB {
	t.Helper()
	mariadbd := anchortest.Need(t, "mariadbd", "mariadb-server", requireEnv)
	installDB := anchortest.Need(t, "mariadb-install-db", "mariadb-server", requireEnv)
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, installDB, "--no-defaults", "--datadir="+data, "--user="+u.Username,
		"--auth-root-authentication-method=normal", "--skip-test-db").CombinedOutput(); err != nil {
		t.Fatalf("mariadb-install-db: %v\n%s", err, out)
	}
	m := mariaDB{addr: anchortest.FreePort(t), socket: filepath.Join(dir, "mysqld.sock")}
	_, port, _ := net.SplitHostPort(m.addr)
	p := anchortest.Start(t, mariadbd, "--no-defaults", "--datadir="+data, "--user="+u.Username,
		"--socket="+m.socket, "--port="+port, "--bind-address=127.0.0.1", "--skip-name-resolve",
		"--pid-file="+filepath.Join(dir, "mysqld.pid"), "--log-error="+filepath.Join(dir, "error.log"),
		"--innodb-buffer-pool-size=16M", "--log-bin=mysql-bin", fmt.Sprintf("--server-id=%d", serverID))

	root := mysql.NewConfig()
	root.User, root.Net, root.Addr = "root", "unix", m.socket
	connector, err := mysql.NewConnector(root)
	if err != nil {
		t.Fatal(err)
	}
	m.root = sql.OpenDB(connector)
	m.root.SetMaxOpenConns(1) // one session, for sql_log_bin
	t.Cleanup(func() { m.root.Close() })
	p.WaitReady(t, m.root.Ping)
	m.exec(t,
		"SET SESSION sql_log_bin = 0",
		fmt.Sprintf("CREATE USER '%s'@'127.0.0.1' IDENTIFIED BY '%s'", testUser, testPassword),
		fmt.Sprintf("CREATE USER '%s'@'localhost' IDENTIFIED BY '%s'", testUser, testPassword),
		fmt.Sprintf("GRANT PROCESS, REPLICATION CLIENT, SLAVE MONITOR, SELECT ON *.* TO '%s'@'127.0.0.1'", testUser),
		fmt.Sprintf("GRANT PROCESS, REPLICATION CLIENT, SLAVE MONITOR, SELECT ON *.* TO '%s'@'localhost'", testUser),
		"SET SESSION sql_log_bin = 1",
	)
	return m
}

// exec runs the statements as root.
func (m mariaDB) exec(t *testing.T, statements ...string) {
	t.Helper()
	for _, q := range statements {
		if _, err := m.root.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// replicate makes replica replicate primary, and waits until both of
// its threads run.
func replicate(t *testing.T, primary, replica mariaDB) {
	t.Helper()
	host, port, _ := net.SplitHostPort(primary.addr)
	primary.exec(t,
		"CREATE USER 'repl'@'127.0.0.1' IDENTIFIED BY 'repl-secret'",
		"GRANT REPLICATION SLAVE ON *.* TO 'repl'@'127.0.0.1'",
		"CREATE DATABASE app",
		"CREATE TABLE app.t (id INT PRIMARY KEY) ENGINE=InnoDB",
		"INSERT INTO app.t VALUES (1), (2), (3)",
	)
	replica.exec(t,
		fmt.Sprintf("CHANGE MASTER TO MASTER_HOST='%s', MASTER_PORT=%s, MASTER_USER='repl', MASTER_PASSWORD='repl-secret', MASTER_USE_GTID=slave_pos", host, port),
		"START SLAVE",
	)
	deadline := time.Now().Add(time.Minute)
	for {
		var rows int
		err := replica.root.QueryRow("SELECT COUNT(*) FROM app.t").Scan(&rows)
		if err == nil && rows == 3 {
			return
		}
		if time.Now().After(deadline) {
			var status string
			replica.root.QueryRow("SELECT CONCAT(VARIABLE_NAME, '=', VARIABLE_VALUE) FROM information_schema.global_status WHERE VARIABLE_NAME = 'Slave_running'").Scan(&status)
			t.Fatalf("the replica has not replicated the table within a minute (%s): %v", status, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// startPlugin builds the plugin and starts it as Vigil does.
func startPlugin(t *testing.T) (*client.Plugin, string) {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "vigil-exporter-mysql")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	p, err := client.Start(client.Options{Path: bin})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Kill)
	return p, bin
}

// collect configures the plugin with config and collects once; the
// collection must succeed whatever the server does.
func collect(t *testing.T, p *client.Plugin, config string) map[string]*dto.MetricFamily {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := p.Configure(ctx, []byte(config)); err != nil {
		t.Fatalf("configure %s: %v", config, err)
	}
	families, err := p.Collect(ctx)
	if err != nil && sdk.AsTargetError(err) == nil {
		t.Fatalf("collect with %s: %v", config, err)
	}
	byName := map[string]*dto.MetricFamily{}
	for _, f := range families {
		byName[f.GetName()] = f
	}
	// The target error says what mysql_up says.
	if down := sdk.AsTargetError(err) != nil; down != (gauge(byName["mysql_up"]) == 0) {
		t.Errorf("collect with %s: target error %v with mysql_up %v", config, err, gauge(byName["mysql_up"]))
	}
	return byName
}

// label returns the value of m's label name.
func label(m *dto.Metric, name string) string {
	for _, l := range m.Label {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// gauge returns the value of the family's only series, or -1.
func gauge(f *dto.MetricFamily) float64 {
	if f == nil || len(f.Metric) != 1 {
		return -1
	}
	return f.Metric[0].GetGauge().GetValue()
}

// TestMariaDB runs a MariaDB server, collects it with the plugin and with
// Debian's mysqld_exporter, and compares the two; then it checks what a
// bad password and a server that is down give, and runs the conformance
// suite with a config that reaches the server.
func TestMariaDB(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a MariaDB server")
	}
	if runtime.GOOS != "linux" {
		t.Skip("runs Debian's MariaDB")
	}
	anchorBin := anchortest.Need(t, "prometheus-mysqld-exporter", "prometheus-mysqld-exporter", requireEnv)
	m := startMariaDB(t, 1)
	p, bin := startPlugin(t)

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	info, kind, err := p.Info(ctx)
	if err != nil || kind != sdk.KindExporter || info.Name != "mysql" || info.Version != version {
		t.Fatalf("info %+v, kind %v: %v", info, kind, err)
	}
	attrs, err := p.Schema(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range attrs {
		if (a.Name == attrPassword) != a.Sensitive {
			t.Errorf("attribute %s: sensitive %v", a.Name, a.Sensitive)
		}
	}
	var ae *sdk.AttributeError
	for config, attr := range map[string]string{
		`{"address": "no-port"}`:                           attrAddress,
		`{"tls": "maybe"}`:                                 attrTLS,
		`{"collectors": ["global_status", "x"]}`:           attrCollectors,
		`{"lock_wait_timeout": 0.5}`:                       attrLockWaitTimeout,
		`{"collectors": ["slave_status", "slave_status"]}`: attrCollectors,
	} {
		if err := p.Configure(ctx, []byte(config)); !errors.As(err, &ae) || ae.Attribute != attr {
			t.Errorf("configure %s: %v, want an error naming %q", config, err, attr)
		}
	}

	good := fmt.Sprintf(`{"address": %q, "user": %q, "password": %q}`, m.addr, testUser, testPassword)
	got := collect(t, p, good)
	if v := gauge(got["mysql_up"]); v != 1 {
		t.Fatalf("mysql_up %v, want 1", v)
	}
	if v := gauge(got["mysql_exporter_last_scrape_error"]); v != 0 {
		t.Errorf("mysql_exporter_last_scrape_error %v, want 0", v)
	}
	if f := got["mysql_version_info"]; f == nil || len(f.Metric) != 1 {
		t.Errorf("mysql_version_info: %v", f)
	}
	for _, f := range got["mysql_exporter_collector_success"].GetMetric() {
		if f.GetGauge().GetValue() != 1 {
			t.Errorf("collector %v failed", f.Label)
		}
	}
	// Through the socket as well.
	if v := gauge(collect(t, p, fmt.Sprintf(`{"address": %q, "user": %q, "password": %q}`, m.socket, testUser, testPassword))["mysql_up"]); v != 1 {
		t.Errorf("through the socket: mysql_up %v, want 1", v)
	}

	// Debian's mysqld_exporter on the same server, with its default
	// collectors, and with info_schema.innodb_metrics as well.
	all, err := json.Marshal(map[string]any{"address": m.addr, "user": testUser, "password": testPassword, "collectors": scraperNames()})
	if err != nil {
		t.Fatal(err)
	}
	allCollectors := string(all)
	// And a replica of the server, for the replication status.
	r := startMariaDB(t, 2)
	replicate(t, m, r)
	replicaConfig := fmt.Sprintf(`{"address": %q, "user": %q, "password": %q}`, r.addr, testUser, testPassword)
	for _, c := range []struct {
		name, server, config string
		args                 []string
	}{
		{"default collectors", m.addr, good, nil},
		{"with info_schema.innodb_metrics", m.addr, allCollectors, []string{"--collect.info_schema.innodb_metrics"}},
		{"replica", r.addr, replicaConfig, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			anchorAddr := anchortest.FreePort(t)
			anchor := anchortest.StartEnv(t, []string{fmt.Sprintf("DATA_SOURCE_NAME=%s:%s@tcp(%s)/", testUser, testPassword, c.server)},
				anchorBin, append([]string{"--web.listen-address=" + anchorAddr}, c.args...)...)
			var anchorFamilies []*dto.MetricFamily
			anchor.WaitReady(t, func() error {
				anchorFamilies, err = anchortest.Scrape("http://" + anchorAddr + "/metrics")
				return err
			})
			var families []*dto.MetricFamily
			byName := collect(t, p, c.config)
			for _, f := range byName {
				families = append(families, f)
			}
			if c.server == r.addr {
				host, _, _ := net.SplitHostPort(m.addr)
				io := byName["mysql_slave_status_slave_io_running"].GetMetric()
				if len(io) != 1 || io[0].GetUntyped().GetValue() != 1 || label(io[0], "master_host") != host {
					t.Errorf("mysql_slave_status_slave_io_running: %v, want 1 with master_host %s", io, host)
				}
				if f := byName["mysql_slave_status_gtid_slave_pos"]; f == nil {
					t.Error("no mysql_slave_status_gtid_slave_pos")
				}
			}
			report := anchortest.Compare(anchorFamilies, families, "go_", "process_", "promhttp_")
			t.Logf("mysqld_exporter, %s: %s", c.name, report)
			if report.Coverage() < 0.9 {
				t.Errorf("the plugin has %.1f%% of mysqld_exporter's families, want at least 90%%", 100*report.Coverage())
			}
			for _, l := range report.Labels {
				t.Errorf("label names differ: %s", l)
			}
			// The variables do not change between the two collections:
			// each has the value mysqld_exporter gives it.
			for _, d := range anchortest.DiffValues(anchorFamilies, families, func(name string) bool {
				return strings.HasPrefix(name, "mysql_global_variables_")
			}) {
				t.Errorf("value differs: %s", d)
			}
		})
	}

	// A wrong password and a server that is down: mysql_up 0, and the
	// collection itself succeeds.
	for name, config := range map[string]string{
		"wrong password": fmt.Sprintf(`{"address": %q, "user": %q, "password": "wrong"}`, m.addr, testUser),
		"server down":    fmt.Sprintf(`{"address": %q, "user": %q, "password": %q, "timeout": "2s"}`, anchortest.FreePort(t), testUser, testPassword),
	} {
		got := collect(t, p, config)
		if v := gauge(got["mysql_up"]); v != 0 {
			t.Errorf("%s: mysql_up %v, want 0", name, v)
		}
		if v := gauge(got["mysql_exporter_last_scrape_error"]); v != 1 {
			t.Errorf("%s: mysql_exporter_last_scrape_error %v, want 1", name, v)
		}
	}

	t.Run("Conformance", func(t *testing.T) {
		conformance.Exporter(t, conformance.Program(bin), conformance.Options{ConfigJSON: []byte(allCollectors)})
	})
}
