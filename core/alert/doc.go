// Package alert is Vigil's alert dispatcher, Alertmanager's model built
// on Vigil's configuration rather than on the Alertmanager library. Alerts
// come from the rules of core/rules.
//
// The pure logic the dispatcher stands on:
//
//   - ParseMatchers reads label matchers in Alertmanager's syntax, the one
//     of the route, inhibit and silence matchers.
//   - NewRoute builds the routing tree of the configuration's route block:
//     Route.Match finds the routes of an alert, Route.GroupLabels and
//     Route.GroupKey its group, Route.Muted the time intervals that mute
//     it.
//   - ContainsTime says whether a time is in a time_interval.
//   - Inhibitor applies the inhibit blocks to the firing alerts.
//   - Store keeps the Silences and the NotificationLog in badger.
//
// Dispatcher puts them together: it receives the alerts of the rules and
// of the Alertmanager API, groups them along the routing tree, times each
// group's notifications (group_wait, group_interval, repeat_interval, with
// the notification log), leaves out silenced and inhibited alerts, and
// delivers through the notifier plugins with retries. Resolved alerts are
// notified unless the receiver's notifier block sets send_resolved =
// false.
//
// Forwarder sends the alerts of the rules to external Alertmanagers, the
// alertmanager blocks, with Prometheus's own notifier package.
package alert
