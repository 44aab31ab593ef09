package sdk

import (
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
)

// ResponseError judges the answer of a notification service over HTTP, as
// Alertmanager's notifiers do: nil for a 2xx status; otherwise an error
// naming the service, the status and the start of the body, retryable
// for 429 and 5xx and marked Permanent for anything else. It reads at
// most 512 bytes of the body and leaves closing it to the caller.
func ResponseError(service string, resp *http.Response) error {
	if resp.StatusCode/100 == 2 {
		return nil
	}
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	err := fmt.Errorf("%s answered %s: %q", service, resp.Status, strings.TrimSpace(strings.ToValidUTF8(string(snippet), "\uFFFD")))
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode/100 == 5 {
		return err
	}
	return Permanent(err)
}

// TemplateFuncs are functions for notification templates, for
// text/template and html/template alike (convert with
// template.FuncMap(sdk.TemplateFuncs())): toUpper, toLower, join (sep,
// list), firing and resolved (the alerts of that status), sortedValues
// and sortedPairs (a label map's values, or "name=value" pairs, in the
// order of the names).
func TemplateFuncs() map[string]any {
	return map[string]any{
		"toUpper":      strings.ToUpper,
		"toLower":      strings.ToLower,
		"join":         func(sep string, s []string) string { return strings.Join(s, sep) },
		"firing":       func(alerts []Alert) []Alert { return alertsWithStatus(alerts, "firing") },
		"resolved":     func(alerts []Alert) []Alert { return alertsWithStatus(alerts, "resolved") },
		"sortedValues": func(m map[string]string) []string { return sortedEntries(m, func(_, v string) string { return v }) },
		"sortedPairs": func(m map[string]string) []string {
			return sortedEntries(m, func(k, v string) string { return k + "=" + v })
		},
	}
}

func alertsWithStatus(alerts []Alert, status string) []Alert {
	var out []Alert
	for _, a := range alerts {
		if a.Status == status {
			out = append(out, a)
		}
	}
	return out
}

// sortedEntries maps the entries of m, in the order of their keys.
func sortedEntries(m map[string]string, f func(k, v string) string) []string {
	out := make([]string, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, f(k, m[k]))
	}
	return out
}
