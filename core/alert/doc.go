// Package alert is Vigil's alert dispatcher, Alertmanager's model built
// on Vigil's configuration rather than on the Alertmanager library. Alerts
// come from the rules of core/rules.
//
// What exists is the pure logic the dispatcher stands on:
//
//   - ParseMatchers reads label matchers in Alertmanager's syntax, the one
//     of the route, inhibit and silence matchers.
//   - NewRoute builds the routing tree of the configuration's route block:
//     Route.Match finds the routes of an alert, Route.GroupLabels and
//     Route.GroupKey its group, Route.Muted the time intervals that mute
//     it.
//   - ContainsTime says whether a time is in a time_interval.
//   - Inhibitor applies the inhibit blocks to the firing alerts.
//
// The dispatcher builds on it: the grouping timers (group_wait,
// group_interval, repeat_interval), the notification log that remembers
// what was sent, silences, and delivery through notifier plugins.
package alert
