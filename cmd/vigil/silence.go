package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os/user"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/spf13/cobra"

	"github.com/vigilmon/vigil/core/alert"
	"github.com/vigilmon/vigil/core/api"
)

func newSilenceCommand() *cobra.Command {
	return newGroupCommand("silence", "Add, list and expire silences on a server",
		newSilenceAddCommand(), newSilenceListCommand(), newSilenceExpireCommand())
}

func newSilenceAddCommand() *cobra.Command {
	var (
		server, author, comment, start, end string
		duration                            time.Duration
	)
	cmd := &cobra.Command{
		Use:   "add [flags] MATCHER...",
		Short: "Add a silence",
		Long: `Add a silence of the alerts matching every MATCHER, in Alertmanager's
syntax: alertname=Foo, 'severity=~"crit|page"', env!=dev, team!~"a|b".
It starts now, or at --start, and lasts --duration, or until --end. Times
are RFC 3339 or Unix seconds. The new silence's ID is printed.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageError{errors.New("silence add needs at least one matcher")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			var ms []*labels.Matcher
			for _, arg := range args {
				m, err := alert.ParseMatchers(arg)
				if err != nil {
					return usageError{fmt.Errorf("invalid matcher %q: %w", arg, err)}
				}
				ms = append(ms, m...)
			}
			now := time.Now()
			startsAt, endsAt, err := silenceTimes(now, start, end, duration, cmd.Flags().Changed("duration"))
			if err != nil {
				return usageError{err}
			}
			if author == "" {
				author = currentUser()
			}
			body := api.PostableSilence{
				Matchers:  api.NewAMMatchers(ms),
				StartsAt:  startsAt,
				EndsAt:    endsAt,
				CreatedBy: author,
				Comment:   comment,
			}
			var resp api.PostSilenceResponse
			if err := amRequest(cmd.Context(), server, http.MethodPost, "/api/v2/silences", body, &resp); err != nil {
				return fmt.Errorf("cannot add the silence: %w", err)
			}
			fmt.Fprintln(cmd.OutOrStdout(), resp.SilenceID)
			return nil
		},
	}
	addServerFlag(cmd, &server)
	cmd.Flags().StringVar(&author, "author", "", "who creates the silence (default: the current user)")
	cmd.Flags().StringVar(&comment, "comment", "", "why the silence exists")
	cmd.Flags().DurationVar(&duration, "duration", time.Hour, "how long the silence lasts")
	cmd.Flags().StringVar(&start, "start", "", "when the silence starts (default now)")
	cmd.Flags().StringVar(&end, "end", "", "when the silence ends, instead of --duration")
	return cmd
}

// silenceTimes returns the start and end of a new silence from the flags.
func silenceTimes(now time.Time, start, end string, duration time.Duration, durationSet bool) (time.Time, time.Time, error) {
	if end != "" && durationSet {
		return time.Time{}, time.Time{}, errors.New("give --end or --duration, not both")
	}
	startsAt := now
	if start != "" {
		t, err := parseSilenceTime(start)
		if err != nil {
			return time.Time{}, time.Time{}, fmt.Errorf("invalid --start: %w", err)
		}
		startsAt = t
	}
	if end == "" {
		if duration <= 0 {
			return time.Time{}, time.Time{}, fmt.Errorf("--duration %s is not positive", duration)
		}
		return startsAt, startsAt.Add(duration), nil
	}
	endsAt, err := parseSilenceTime(end)
	if err != nil {
		return time.Time{}, time.Time{}, fmt.Errorf("invalid --end: %w", err)
	}
	if !endsAt.After(startsAt) {
		return time.Time{}, time.Time{}, fmt.Errorf("--end %s is not after the start %s", endsAt.Format(time.RFC3339), startsAt.Format(time.RFC3339))
	}
	return startsAt, endsAt, nil
}

// parseSilenceTime accepts RFC 3339 and Unix seconds.
func parseSilenceTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	var sec float64
	if _, err := fmt.Sscanf(s, "%g", &sec); err == nil {
		return time.UnixMilli(int64(sec * 1000)), nil
	}
	return time.Time{}, fmt.Errorf("%q is neither RFC 3339 nor Unix seconds", s)
}

// currentUser names the user running the command, for --author.
func currentUser() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return ""
}

func newSilenceListCommand() *cobra.Command {
	var (
		server          string
		expired, asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "list [flags] [MATCHER...]",
		Short: "List the silences",
		Long: `List the active and pending silences, or with --expired the expired
ones, as a table or, with --json, as the API's JSON. MATCHERs, in
Alertmanager's syntax, select the silences whose own matchers satisfy them.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			for _, arg := range args {
				if _, err := alert.ParseMatchers(arg); err != nil {
					return usageError{fmt.Errorf("invalid matcher %q: %w", arg, err)}
				}
			}
			var all []api.GettableSilence
			path := "/api/v2/silences"
			if len(args) > 0 {
				path += "?" + url.Values{"filter": args}.Encode()
			}
			if err := amRequest(cmd.Context(), server, http.MethodGet, path, nil, &all); err != nil {
				return fmt.Errorf("cannot list the silences: %w", err)
			}
			sils := []api.GettableSilence{}
			for _, s := range all {
				if (s.Status.State == string(alert.SilenceStateExpired)) == expired {
					sils = append(sils, s)
				}
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), sils)
			}
			return printSilences(cmd.OutOrStdout(), sils)
		},
	}
	addServerFlag(cmd, &server)
	cmd.Flags().BoolVar(&expired, "expired", false, "list the expired silences instead")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the silences as JSON")
	return cmd
}

func printJSON(out io.Writer, v any) error {
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("cannot print JSON: %w", err)
	}
	return nil
}

// printSilences prints silences as a table.
func printSilences(out io.Writer, sils []api.GettableSilence) error {
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tMATCHERS\tENDS AT\tCREATED BY\tCOMMENT")
	for _, s := range sils {
		ms, err := api.LabelMatchers(s.Matchers)
		if err != nil {
			return fmt.Errorf("silence %s: %w", s.ID, err)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", s.ID, alert.FormatMatchers(ms), s.EndsAt.UTC().Format(time.RFC3339),
			s.CreatedBy, strings.ReplaceAll(s.Comment, "\n", " "))
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("cannot print the silences: %w", err)
	}
	return nil
}

func newSilenceExpireCommand() *cobra.Command {
	var server string
	cmd := &cobra.Command{
		Use:   "expire [flags] ID...",
		Short: "Expire silences now",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageError{errors.New("silence expire needs at least one silence ID")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			var errs []error
			for _, id := range args {
				if err := amRequest(cmd.Context(), server, http.MethodDelete, "/api/v2/silence/"+url.PathEscape(id), nil, nil); err != nil {
					errs = append(errs, fmt.Errorf("cannot expire silence %s: %w", id, err))
				}
			}
			return errors.Join(errs...)
		},
	}
	addServerFlag(cmd, &server)
	return cmd
}

// amTimeout bounds a request of the silence and alerts commands.
const amTimeout = 30 * time.Second

// amRequest sends a request to the Alertmanager API v2 of server, with in
// as the JSON body unless nil, and decodes the JSON answer into out unless
// nil. An answer other than 200 is an error with the server's message.
func amRequest(ctx context.Context, server, method, path string, in, out any) error {
	u, err := url.Parse(server)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return usageError{fmt.Errorf("invalid server URL %q (--server or $%s): want a URL such as %s", server, serverEnv, defaultServer)}
	}
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("cannot encode the request: %w", err)
		}
		body = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(ctx, amTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(server, "/")+path, body)
	if err != nil {
		return fmt.Errorf("cannot build the request: %w", err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	resp, err := httpClientOf(ctx).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return fmt.Errorf("cannot read the answer of %s: %w", server, err)
	}
	if resp.StatusCode != http.StatusOK {
		msg := strings.TrimSpace(string(b))
		var s string
		if json.Unmarshal(b, &s) == nil {
			msg = s
		}
		if msg == "" {
			msg = http.StatusText(resp.StatusCode)
		}
		return fmt.Errorf("%s answered %s: %s", server, resp.Status, msg)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("cannot decode the answer of %s: %w", server, err)
	}
	return nil
}
